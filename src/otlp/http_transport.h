// OTLP over HTTP/protobuf (POST <endpoint>/v1/metrics) with libcurl.
//
// Owns one curl easy handle, reused so the connection stays open between
// exports. Not thread-safe: the OTLP exporter thread owns it.
#pragma once

#include <atomic>
#include <string>

#include "config/config.h"

namespace klag::otlp {

enum class SendResult {
  success,
  retryable,  // 429, 502, 503, 504, or a transport error (refused, timeout)
  failed,     // any other answer: retrying the same batch will not help
};

struct SendOutcome {
  SendResult result = SendResult::failed;
  std::string detail;  // "HTTP 503", curl's error text, ...
};

// The URL to POST to: the endpoint as given when it has a path, else
// <endpoint>/v1/metrics (the specification's rule for the base endpoint).
std::string metrics_url(const std::string& endpoint);

class HttpTransport {
 public:
  // `cancel` aborts a transfer in flight (shutdown).
  HttpTransport(const config::Otel& cfg, const std::atomic<bool>* cancel);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;
  HttpTransport(HttpTransport&&) = delete;
  HttpTransport& operator=(HttpTransport&&) = delete;

  SendOutcome send(const std::string& body);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace klag::otlp
