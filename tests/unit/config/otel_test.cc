// [exporter.otel]: keys, defaults and the OTEL_EXPORTER_OTLP_* fallbacks.
#include <gtest/gtest.h>

#include "test_support.h"

namespace klag::config {
namespace {

using testing::expect_error;
using testing::fake_env;
using testing::kCluster;
using testing::parse_failure;
using testing::parse_ok;

std::string otel(std::string_view body) {
  return "[exporter.otel]\n" + std::string(body) + std::string(kCluster);
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(Otel, Defaults) {
  const Otel o = parse_ok(std::string(kCluster)).exporter.otel;
  EXPECT_FALSE(o.enabled);
  EXPECT_EQ(o.endpoint, "http://localhost:4317");
  EXPECT_EQ(o.protocol, "grpc");
  EXPECT_EQ(o.timeout, std::chrono::seconds(10));
  EXPECT_TRUE(o.insecure);
  EXPECT_TRUE(o.headers.empty());
}

TEST(Otel, EveryKeyFromTheFile) {
  const Otel o = parse_ok(otel("endpoint = \"https://otel:4318\"\nprotocol = \"http/protobuf\"\n"
                               "timeout = \"3s\"\nca_file = \"/ca.pem\"\ncert_file = \"/c.pem\"\nkey_file = \"/k.pem\"\n"
                               "export_interval = \"15s\"\n[exporter.otel.headers]\nAuthorization = \"Bearer ${TOKEN}\"\n"
                               "x-tenant = \"a\"\n"),
                          fake_env({{"TOKEN", "s3cret"}}))
                      .exporter.otel;
  EXPECT_EQ(o.endpoint, "https://otel:4318");
  EXPECT_EQ(o.protocol, "http/protobuf");
  EXPECT_EQ(o.timeout, std::chrono::seconds(3));
  EXPECT_EQ(o.export_interval, std::chrono::seconds(15));
  EXPECT_FALSE(o.insecure) << "https endpoints default to TLS";
  EXPECT_EQ(o.ca_file, "/ca.pem");
  EXPECT_EQ(o.cert_file, "/c.pem");
  EXPECT_EQ(o.key_file, "/k.pem");
  EXPECT_EQ(o.headers, (Pairs{{"Authorization", "Bearer s3cret"}, {"x-tenant", "a"}}));
}

TEST(Otel, EnvironmentFillsWhatTheFileLeavesUnset) {
  const auto env = fake_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://general:4317"},
                             {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "https://metrics:4317"},
                             {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
                             {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
                             {"OTEL_EXPORTER_OTLP_HEADERS", "api-key=abc%20def,x=1"},
                             {"OTEL_EXPORTER_OTLP_CERTIFICATE", "/env-ca.pem"}});
  const Otel o = parse_ok(otel("protocol = \"grpc\"\n"), env).exporter.otel;
  EXPECT_EQ(o.endpoint, "https://metrics:4317") << "the _METRICS_ variable wins";
  EXPECT_EQ(o.protocol, "grpc") << "the file wins over the environment";
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(o.headers, (Pairs{{"api-key", "abc def"}, {"x", "1"}}));
  EXPECT_EQ(o.ca_file, "/env-ca.pem");
}

TEST(Otel, BadValuesInTheFileAreErrors) {
  expect_error(parse_failure(otel("protocol = \"http/json\"\n")), "exporter.otel.protocol", 2,
               "must be \"grpc\" or \"http/protobuf\"");
  expect_error(parse_failure(otel("endpoint = \"otel:4317\"\n")), "exporter.otel.endpoint", 2,
               "must start with http:// or https://");
  expect_error(parse_failure(otel("cert_file = \"/c.pem\"\n")), "exporter.otel.key_file", 1,
               "cert_file and key_file must be set together");
  expect_error(parse_failure(otel("[exporter.otel.headers]\nx = 1\n")), "exporter.otel.headers.x", 3,
               "expected a string");
  expect_error(parse_failure(otel("protocoll = \"grpc\"\n")), "exporter.otel.protocoll", 2, "unknown key");
}

TEST(Otel, BadEnvironmentIsIgnoredWhileExportIsOff) {
  // OTEL_* variables meant for other programs must not stop the exporter.
  const auto env = fake_env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"},
                             {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
                             {"OTEL_EXPORTER_OTLP_TIMEOUT", "soon"}});
  EXPECT_FALSE(parse_ok(std::string(kCluster), env).exporter.otel.enabled);
  EXPECT_FALSE(parse_ok(otel("enabled = false\n"), env).exporter.otel.enabled);
}

TEST(Otel, EitherProtocolCanBeEnabled) {
  EXPECT_TRUE(parse_ok(otel("enabled = true\n")).exporter.otel.enabled);
  EXPECT_EQ(parse_ok(otel("enabled = true\n")).exporter.otel.protocol, "grpc");
  EXPECT_TRUE(parse_ok(otel("enabled = true\nprotocol = \"http/protobuf\"\n")).exporter.otel.enabled);
}

TEST(KeyValueList, OpenTelemetryFormat) {
  EXPECT_EQ(parse_key_value_list(" a = 1 ,b=x%2Cy,,noeq,=v,c="), (Pairs{{"a", "1"}, {"b", "x,y"}, {"c", ""}}));
  EXPECT_TRUE(parse_key_value_list("").empty());
}

}  // namespace
}  // namespace klag::config
