// How a batch reaches the receiver: HTTP/protobuf or gRPC. Not thread-safe
// except cancel(), which any thread may call to abort a send in flight.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "otlp/encode.h"

namespace klag::otlp {

enum class SendResult {
  success,
  retryable,  // the receiver may take it later (OTLP's retryable codes)
  failed,     // retrying the same batch will not help
};

struct SendOutcome {
  SendResult result = SendResult::failed;
  std::string detail;  // "HTTP 503", "UNAVAILABLE: ...", curl's error text
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual SendOutcome send(const ExportRequest& request) = 0;
  virtual void cancel() = 0;
};

// HTTP/protobuf (libcurl) or gRPC, per cfg.protocol.
std::unique_ptr<Transport> make_transport(const config::Otel& cfg);

}  // namespace klag::otlp
