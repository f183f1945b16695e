// Invalid top-level and [exporter] input: each error names key, line, reason.
#include <gtest/gtest.h>

#include <algorithm>

#include "test_support.h"

namespace klag::config {
namespace {

using testing::expect_error;
using testing::kCluster;
using testing::parse_failure;

std::string with_cluster(std::string_view text) {
  return std::string(text) + std::string(kCluster);
}

TEST(ParseErrors, TomlSyntaxErrorReportsParserLine) {
  auto error = parse_failure("[exporter]\npoll_interval = \n" + std::string(kCluster));
  expect_error(error, "", 2, "invalid TOML in config: ");
  EXPECT_THAT(error.to_string(), ::testing::StartsWith("config error (line 2): invalid TOML"));
}

TEST(ParseErrors, TomlSyntaxErrorNamesTheSource) {
  auto result = parse("[[clusters]\n", testing::fake_env(), "/etc/klag.toml");
  ASSERT_FALSE(result);
  expect_error(result.error(), "", 1, "invalid TOML in /etc/klag.toml");
}

TEST(ParseErrors, UnknownTopLevelKey) {
  expect_error(parse_failure("verbose = true\n" + std::string(kCluster)), "verbose", 1,
               "unknown key");
  expect_error(parse_failure(with_cluster("[exporters]\n")), "exporters", 1,
               "unknown key (did you mean \"exporter\"?)");
}

TEST(ParseErrors, UnknownExporterKeyWithSuggestion) {
  auto error =
      parse_failure(with_cluster("[exporter]\nhttp_port = 8000\npol_interval = \"30s\"\n"));
  expect_error(error, "exporter.pol_interval", 3, "unknown key (did you mean \"poll_interval\"?)");
  EXPECT_EQ(error.to_string(),
            "config error at exporter.pol_interval (line 3): unknown key (did you mean "
            "\"poll_interval\"?)");
}

TEST(ParseErrors, UnknownKeyReportedInFileOrder) {
  // toml++ sorts keys; the error must still be the first unknown key in the file.
  expect_error(parse_failure(with_cluster("[exporter]\nzzz = 1\naaa = 2\n")), "exporter.zzz", 2,
               "unknown key");
}

TEST(ParseErrors, UnknownTimestampSamplingKey) {
  expect_error(parse_failure(with_cluster(
                   "[exporter.timestamp_sampling]\nenabled = true\nmax_concurent_fetches = 3\n")),
               "exporter.timestamp_sampling.max_concurent_fetches", 3,
               "did you mean \"max_concurrent_fetches\"?");
}

TEST(ParseErrors, UnknownOtelAndLeadershipKeys) {
  expect_error(parse_failure(with_cluster("[exporter.otel]\nurl = \"x\"\n")), "exporter.otel.url",
               2, "unknown key");
  expect_error(parse_failure(with_cluster("[exporter.leadership]\nlease = \"x\"\n")),
               "exporter.leadership.lease", 2, "unknown key");
}

TEST(ParseErrors, TyposInReferenceTablesAreRejected) {
  // [exporter.performance] is accepted for the reference's sake, its keys
  // only: a misspelt one is still an error.
  expect_error(parse_failure(with_cluster("[exporter.performance]\nkafka_timout = \"30s\"\n")),
               "exporter.performance.kafka_timout", 2, "unknown key (did you mean \"kafka_timeout\"?)");
}

TEST(ParseErrors, WrongTypes) {
  expect_error(parse_failure(with_cluster("[exporter]\nhttp_port = \"8000\"\n")),
               "exporter.http_port", 2, "expected an integer, got a string");
  expect_error(parse_failure(with_cluster("[exporter]\nhttp_port = 8000.0\n")),
               "exporter.http_port", 2, "expected an integer, got a float");
  expect_error(parse_failure(with_cluster("[exporter]\npoll_interval = 30\n")),
               "exporter.poll_interval", 2,
               "expected a duration string such as \"30s\", got an integer");
  expect_error(parse_failure(with_cluster("[exporter]\nmember_labels = \"yes\"\n")),
               "exporter.member_labels", 2, "expected a boolean, got a string");
  expect_error(parse_failure(with_cluster("exporter = 5\n")), "exporter", 1,
               "expected a table, got an integer");
  expect_error(parse_failure(with_cluster("[exporter]\ntimestamp_sampling = true\n")),
               "exporter.timestamp_sampling", 2, "expected a table, got a boolean");
  expect_error(parse_failure(with_cluster("[exporter]\nhttp_host = 0\n")), "exporter.http_host", 2,
               "expected a string, got an integer");
}

TEST(ParseErrors, BadDurations) {
  const std::pair<const char*, const char*> cases[] = {
      {"30", "invalid duration \"30\": missing unit"},
      {"5x", "invalid duration \"5x\": unknown unit \"x\""},
      {"-5s", "invalid duration \"-5s\": must not be negative"},
      {"", "invalid duration \"\": empty"},
      {"1.0005s", "invalid duration \"1.0005s\": finer than a millisecond"},
      {"99999999999999999999s", "too large"},
      {"10000h", "must not exceed 8760h, got \"10000h\""},
  };
  for (const auto& [text, fragment] : cases) {
    SCOPED_TRACE(text);
    expect_error(parse_failure(
                     with_cluster(std::string("[exporter]\n\npoll_interval = \"") + text + "\"\n")),
                 "exporter.poll_interval", 3, fragment);
  }
  expect_error(parse_failure(with_cluster("[exporter.timestamp_sampling]\ncache_ttl = \"1x\"\n")),
               "exporter.timestamp_sampling.cache_ttl", 2, "unknown unit \"x\"");
  expect_error(parse_failure(with_cluster("[exporter.otel]\nexport_interval = \"m\"\n")),
               "exporter.otel.export_interval", 2, "expected a number");
}

TEST(ParseErrors, ZeroDurationsWherePositiveRequired) {
  for (const char* key : {"poll_interval", "cycle_timeout", "max_staleness"}) {
    expect_error(parse_failure(with_cluster(std::string("[exporter]\n") + key + " = \"0s\"\n")),
                 std::string("exporter.") + key, 2, "must be greater than 0, got \"0s\"");
  }
  for (const char* key : {"cache_ttl", "fetch_timeout"}) {
    expect_error(parse_failure(with_cluster(std::string("[exporter.timestamp_sampling]\n") + key +
                                            " = \"0ms\"\n")),
                 std::string("exporter.timestamp_sampling.") + key, 2, "must be greater than 0");
  }
  expect_error(parse_failure(with_cluster("[exporter.otel]\nexport_interval = \"0m\"\n")),
               "exporter.otel.export_interval", 2, "must be greater than 0");
}

TEST(ParseErrors, BadGranularityListsAllowedValues) {
  expect_error(parse_failure(with_cluster("[exporter]\ngranularity = \"partitions\"\n")),
               "exporter.granularity", 2, "must be \"topic\" or \"partition\", got \"partitions\"");
}

TEST(ParseErrors, HttpPortOutOfRange) {
  expect_error(parse_failure(with_cluster("[exporter]\nhttp_port = 70000\n")), "exporter.http_port",
               2, "must be between 0 and 65535, got 70000");
  expect_error(parse_failure(with_cluster("[exporter]\nhttp_port = -1\n")), "exporter.http_port", 2,
               "must be between 0 and 65535, got -1");
}

TEST(ParseErrors, HttpHostMustBeIpLiteralOrLocalhost) {
  expect_error(parse_failure(with_cluster("[exporter]\nhttp_host = \"kafka-exporter.example\"\n")),
               "exporter.http_host", 2, "IPv4 or IPv6 address literal such as \"0.0.0.0\" or \"::\", or \"localhost\"");
  expect_error(parse_failure(with_cluster("[exporter]\nhttp_host = \"[127.0.0.1]\"\n")),
               "exporter.http_host", 2, "got \"[127.0.0.1]\"");
  expect_error(parse_failure(with_cluster("[exporter]\nhttp_host = \"[::\"\n")), "exporter.http_host", 2,
               "got \"[::\"");
}

TEST(ParseErrors, MaxConcurrentFetchesMustNotBeNegative) {
  // Ignored here, but still a count, as in the reference.
  expect_error(
      parse_failure(with_cluster("[exporter.timestamp_sampling]\nmax_concurrent_fetches = -1\n")),
      "exporter.timestamp_sampling.max_concurrent_fetches", 2, "must be between 0 and");
}

TEST(ParseErrors, ConsumerStatusBounds) {
  expect_error(parse_failure(with_cluster("[exporter.consumer_status]\nwindow = 1\n")),
               "exporter.consumer_status.window", 2, "must be between 2 and 100");
  expect_error(parse_failure(with_cluster("[exporter.consumer_status]\nmin_lag = 0\n")),
               "exporter.consumer_status.min_lag", 2, "must be between 1 and");
  expect_error(parse_failure(with_cluster("[exporter.consumer_status]\nwindows = 5\n")),
               "exporter.consumer_status.windows", 2, "unknown key");
}

TEST(ParseErrors, LeadershipAndShardingAreExclusive) {
  auto error = parse_failure(
      with_cluster("[exporter.leadership]\nenabled = true\n[exporter.sharding]\nenabled = true\n"));
  expect_error(error, "exporter.sharding.enabled", 0, "cannot both be enabled");
}

TEST(ParseErrors, CoordinationSettings) {
  expect_error(parse_failure(with_cluster("[exporter.leadership]\nlease_duration_secs = 5\ngrace_period_secs = 5\n")),
               "exporter.leadership.grace_period_secs", 3, "must be less than lease_duration_secs (5)");
  expect_error(parse_failure(with_cluster("[exporter.leadership]\nsession_timeout = \"500ms\"\n")),
               "exporter.leadership.session_timeout", 2, "between 1s and 30m");
  expect_error(parse_failure(with_cluster("[exporter.sharding]\ngroup = \"\"\n")), "exporter.sharding.group", 2,
               "must not be empty");
  expect_error(parse_failure(with_cluster("[exporter.sharding]\npartitions = 0\n")),
               "exporter.sharding.partitions", 2, "must be between 1 and 10000");
  expect_error(parse_failure(with_cluster("[exporter.sharding]\nshards = 4\n")), "exporter.sharding.shards", 2,
               "unknown key");
  expect_error(parse_failure(with_cluster("[exporter.leadership]\napi_url = \"kube:443\"\n")),
               "exporter.leadership.api_url", 2, "must start with https://");
  expect_error(parse_failure(with_cluster("[exporter.leadership]\napi_url = \"http://kube:80\"\n")),
               "exporter.leadership.api_url", 2, "http:// only for 127.0.0.1");
}

TEST(ParseErrors, CoordinationClusterMustBeConfigured) {
  expect_error(parse_failure(with_cluster("[exporter.sharding]\nenabled = true\ncluster = \"nope\"\n")),
               "exporter.sharding.cluster", 0, "names no [[clusters]] entry: \"nope\"");
  expect_error(parse_failure(with_cluster("[exporter.leadership]\nenabled = true\ncluster = \"x\"\n")),
               "exporter.leadership.cluster", 0, "names no [[clusters]] entry");
  // The Kubernetes provider does not use a Kafka group: no check.
  testing::parse_ok(with_cluster("[exporter.leadership]\nenabled = true\nprovider = \"kubernetes\"\ncluster = \"x\"\n"),
                    testing::fake_env({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}));
}

TEST(ParseErrors, KubernetesProviderNeedsAnApiServer) {
  expect_error(parse_failure(with_cluster("[exporter.leadership]\nenabled = true\nprovider = \"kubernetes\"\n")),
               "exporter.leadership.api_url", 0, "not running in a pod?");
  testing::parse_ok(with_cluster("[exporter.leadership]\nenabled = true\nprovider = \"kubernetes\"\n"
                                 "api_url = \"https://10.0.0.1:6443\"\n"));
}

TEST(ParseErrors, LeadershipValidation) {
  expect_error(parse_failure(with_cluster("[exporter.leadership]\nprovider = \"zookeeper\"\n")),
               "exporter.leadership.provider", 2,
               "must be \"kafka\" or \"kubernetes\", got \"zookeeper\"");
  expect_error(parse_failure(with_cluster("[exporter.leadership]\nlease_duration_secs = 0\n")),
               "exporter.leadership.lease_duration_secs", 2, "must be between 1 and");
  expect_error(parse_failure(with_cluster("[exporter.leadership]\ngrace_period_secs = -5\n")),
               "exporter.leadership.grace_period_secs", 2, "got -5");
}

TEST(ParseErrors, EnvErrorsInExporterStrings) {
  expect_error(parse_failure(with_cluster("[exporter]\npoll_interval = \"${POLL}\"\n")),
               "exporter.poll_interval", 2, "environment variable POLL is not set");
  expect_error(parse_failure(with_cluster("[exporter.leadership]\nidentity = \"${HOSTNAME\"\n")),
               "exporter.leadership.identity", 2, "unterminated \"${HOSTNAME\"");
}

TEST(ParseErrors, NoClusters) {
  expect_error(parse_failure("[exporter]\npoll_interval = \"30s\"\n"), "clusters", 0,
               "at least one [[clusters]] entry is required");
  expect_error(parse_failure(""), "clusters", 0, "at least one [[clusters]] entry is required");
  expect_error(parse_failure("clusters = []\n"), "clusters", 1, "at least one [[clusters]] entry");
  expect_error(parse_failure("[clusters]\nname = \"c\"\n"), "clusters", 1,
               "expected an array of tables ([[clusters]]), got a table");
  expect_error(parse_failure("clusters = [1]\n"), "clusters[0]", 1,
               "expected a table, got an integer");
}

TEST(ParseErrors, ReportsEveryErrorInOneRun) {
  auto error = parse_failure(R"([exporter]
poll_interval = "30"
http_port = 70000
http_hots = "0.0.0.0"
granularity = "partitions"

[exporter.timestamp_sampling]
cache_ttl = "1x"

[exporter.performance]
kafka_timeout = 30

[[clusters]]
name = ""
bootstrap_servers = "k:9092"
group_whitelist = ["orders(", "ok", 5]

[clusters.labels]
topic = "x"

[[clusters]]
bootstrap_servers = "${BROKERS}"
)");
  // The first in file order, then the others in `more`, each naming its key.
  expect_error(error, "exporter.poll_interval", 2, "missing unit");
  std::vector<std::pair<std::string, int>> rest;
  for (const auto& e : error.more) rest.emplace_back(e.key, e.line);
  EXPECT_EQ(rest, (std::vector<std::pair<std::string, int>>{
                      {"exporter.http_port", 3},
                      {"exporter.http_hots", 4},
                      {"exporter.granularity", 5},
                      {"exporter.timestamp_sampling.cache_ttl", 8},
                      {"exporter.performance.kafka_timeout", 11},
                      {"clusters[0].name", 14},
                      {"clusters[0].group_whitelist[0]", 16},
                      {"clusters[0].group_whitelist[2]", 16},
                      {"clusters[0].labels.topic", 19},
                      {"clusters[1].name", 21},
                      {"clusters[1].bootstrap_servers", 22},
                  }));
  const std::string text = error.to_string();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 11) << text;
  EXPECT_THAT(text, ::testing::HasSubstr("\nconfig error at clusters[1].bootstrap_servers (line 22): environment "
                                         "variable BROKERS is not set"));
}

TEST(ParseErrors, NoSecondErrorForTheSameKey) {
  // A missing name is not also reported as empty, nor as a duplicate.
  auto error = parse_failure("[[clusters]]\nbootstrap_servers = \"k\"\n[[clusters]]\nbootstrap_servers = \"k\"\n");
  expect_error(error, "clusters[0].name", 1, "is required");
  ASSERT_EQ(error.more.size(), 1u) << error.to_string();
  expect_error(error.more[0], "clusters[1].name", 3, "is required");
}

TEST(ParseErrors, ThrowingEnvLookupIsReportedNotThrown) {
  EnvLookup env = [](const std::string&) -> std::optional<std::string> {
    throw std::runtime_error("lookup failed");
  };
  auto result = parse("[[clusters]]\nname = \"${X}\"\nbootstrap_servers = \"k\"\n", env);
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, ::testing::HasSubstr("lookup failed"));
}

}  // namespace
}  // namespace klag::config
