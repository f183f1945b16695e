#include "otlp/grpc_transport.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <sstream>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "otlp/http_transport.h"

namespace klag::otlp {
namespace {

namespace svc = opentelemetry::proto::collector::metrics::v1;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string grpc_target(const std::string& endpoint) {
  std::string t = endpoint;
  if (auto p = t.find("://"); p != std::string::npos) t = t.substr(p + 3);
  if (!t.empty() && t.back() == '/') t.pop_back();
  return t;
}

bool grpc_retryable(int code) {
  switch (static_cast<grpc::StatusCode>(code)) {
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DATA_LOSS:
      return true;
    default:
      return false;
  }
}

struct GrpcTransport::Impl {
  config::Otel cfg;
  std::unique_ptr<svc::MetricsService::Stub> stub;
};

GrpcTransport::GrpcTransport(const config::Otel& cfg) : impl_(std::make_unique<Impl>()) {
  impl_->cfg = cfg;
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (cfg.insecure) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions tls;
    if (!cfg.ca_file.empty()) tls.pem_root_certs = read_file(cfg.ca_file);
    if (!cfg.cert_file.empty()) {
      tls.pem_cert_chain = read_file(cfg.cert_file);
      tls.pem_private_key = read_file(cfg.key_file);
    }
    creds = grpc::SslCredentials(tls);
  }
  impl_->stub = svc::MetricsService::NewStub(grpc::CreateChannel(grpc_target(cfg.endpoint), creds));
}

GrpcTransport::~GrpcTransport() = default;

SendOutcome GrpcTransport::send(const ExportRequest& request) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + impl_->cfg.timeout);
  // gRPC metadata keys must be lower case.
  for (const auto& [k, v] : impl_->cfg.headers) {
    std::string key = k;
    for (char& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    ctx.AddMetadata(key, v);
  }
  {
    std::lock_guard lock(mu_);
    if (cancelled_) return {SendResult::failed, "cancelled"};
    active_ = &ctx;
  }
  svc::ExportMetricsServiceResponse response;
  const grpc::Status status = impl_->stub->Export(&ctx, request, &response);
  {
    std::lock_guard lock(mu_);
    active_ = nullptr;
  }
  if (status.ok()) return {SendResult::success, "OK"};
  const std::string detail = std::to_string(static_cast<int>(status.error_code())) + ": " + status.error_message();
  return {grpc_retryable(status.error_code()) ? SendResult::retryable : SendResult::failed, detail};
}

void GrpcTransport::cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  if (active_) active_->TryCancel();
}

std::unique_ptr<Transport> make_transport(const config::Otel& cfg) {
  if (cfg.protocol == "grpc") return std::make_unique<GrpcTransport>(cfg);
  return std::make_unique<HttpTransport>(cfg);
}

}  // namespace klag::otlp
