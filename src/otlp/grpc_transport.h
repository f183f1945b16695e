// OTLP over gRPC (MetricsService/Export) with grpc++.
//
// Owns one channel, reused between exports. send() from the exporter
// thread; cancel() from any thread aborts the call in flight.
#pragma once

#include <memory>
#include <mutex>

#include "otlp/transport.h"

namespace grpc {
class ClientContext;
}

namespace klag::otlp {

// "http://host:4317" -> "host:4317" (gRPC targets have no scheme).
std::string grpc_target(const std::string& endpoint);

// Retryable status codes per the OTLP specification: CANCELLED,
// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, OUT_OF_RANGE,
// UNAVAILABLE, DATA_LOSS.
bool grpc_retryable(int status_code);

class GrpcTransport final : public Transport {
 public:
  explicit GrpcTransport(const config::Otel& cfg);
  ~GrpcTransport() override;
  GrpcTransport(const GrpcTransport&) = delete;
  GrpcTransport& operator=(const GrpcTransport&) = delete;
  GrpcTransport(GrpcTransport&&) = delete;
  GrpcTransport& operator=(GrpcTransport&&) = delete;

  SendOutcome send(const ExportRequest& request) override;
  void cancel() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::mutex mu_;
  grpc::ClientContext* active_ = nullptr;  // the call in flight, guarded by mu_
  bool cancelled_ = false;
};

}  // namespace klag::otlp
