#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include "otlp/grpc_transport.h"
#include "otlp/http_transport.h"

namespace klag::otlp {
namespace {

TEST(HttpTransport, MetricsUrlFollowsTheBaseEndpointRule) {
  EXPECT_EQ(metrics_url("http://collector:4318"), "http://collector:4318/v1/metrics");
  EXPECT_EQ(metrics_url("http://collector:4318/"), "http://collector:4318/v1/metrics");
  EXPECT_EQ(metrics_url("https://gw.example/otlp/v1/metrics"), "https://gw.example/otlp/v1/metrics");
}

TEST(GrpcTransport, TargetDropsTheScheme) {
  EXPECT_EQ(grpc_target("http://collector:4317"), "collector:4317");
  EXPECT_EQ(grpc_target("https://collector:4317/"), "collector:4317");
  EXPECT_EQ(grpc_target("collector:4317"), "collector:4317");
}

TEST(GrpcTransport, RetryableCodesFollowTheOtlpSpecification) {
  using grpc::StatusCode;
  for (auto c : {StatusCode::UNAVAILABLE, StatusCode::RESOURCE_EXHAUSTED, StatusCode::DEADLINE_EXCEEDED,
                 StatusCode::ABORTED, StatusCode::CANCELLED, StatusCode::OUT_OF_RANGE, StatusCode::DATA_LOSS}) {
    EXPECT_TRUE(grpc_retryable(c)) << c;
  }
  for (auto c : {StatusCode::INVALID_ARGUMENT, StatusCode::UNAUTHENTICATED, StatusCode::PERMISSION_DENIED,
                 StatusCode::UNIMPLEMENTED, StatusCode::NOT_FOUND, StatusCode::INTERNAL}) {
    EXPECT_FALSE(grpc_retryable(c)) << c;
  }
}

}  // namespace
}  // namespace klag::otlp
