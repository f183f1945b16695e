// OTLP over HTTP/protobuf (POST <endpoint>/v1/metrics) with libcurl.
//
// Owns one curl easy handle, reused so the connection stays open between
// exports. Not thread-safe: the OTLP exporter thread owns it.
#pragma once

#include <atomic>
#include <string>

#include "config/config.h"
#include "otlp/transport.h"

namespace klag::otlp {

// The URL to POST to: the endpoint as given when it has a path, else
// <endpoint>/v1/metrics (the specification's rule for the base endpoint).
std::string metrics_url(const std::string& endpoint);

// Retryable: 429, 502, 503, 504 and transport errors (refused, timeout).
class HttpTransport final : public Transport {
 public:
  explicit HttpTransport(const config::Otel& cfg);
  ~HttpTransport() override;
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;
  HttpTransport(HttpTransport&&) = delete;
  HttpTransport& operator=(HttpTransport&&) = delete;

  SendOutcome send(const ExportRequest& request) override;
  void cancel() override { cancelled_ = true; }

 private:
  struct Impl;
  Impl* impl_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace klag::otlp
