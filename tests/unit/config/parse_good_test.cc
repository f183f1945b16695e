// Valid configurations: every key lands in the right field; defaults apply.
#include <gtest/gtest.h>

#include <chrono>

#include "test_support.h"

namespace klag::config {
namespace {

using namespace std::chrono_literals;
using testing::data_path;
using testing::fake_env;
using testing::kCluster;
using testing::parse_ok;
using Labels = std::vector<std::pair<std::string, std::string>>;

TEST(ParseGood, FullFileFillsEveryField) {
  auto env =
      fake_env({{"POD_NAME", "klag-0"}, {"KAFKA_USER", "svc"}, {"KAFKA_PASSWORD", "s3cret"}});
  auto result = load_file(data_path("full.toml"), env);
  ASSERT_TRUE(result) << result.error().to_string();
  const Config& config = *result;

  const Exporter& ex = config.exporter;
  EXPECT_EQ(ex.poll_interval, 15s);
  EXPECT_EQ(ex.http_port, 9090);
  EXPECT_EQ(ex.http_host, "::");
  EXPECT_EQ(ex.granularity, Granularity::topic);
  EXPECT_FALSE(ex.member_labels);
  EXPECT_EQ(ex.cycle_timeout, 20s);
  EXPECT_EQ(ex.max_staleness, 2min);
  EXPECT_EQ(ex.effective_cycle_timeout(), 20s);
  EXPECT_EQ(ex.effective_max_staleness(), 2min);

  EXPECT_FALSE(ex.timestamp_sampling.enabled);
  EXPECT_EQ(ex.timestamp_sampling.cache_ttl, 150s);
  EXPECT_EQ(ex.timestamp_sampling.max_concurrent_fetches, 4);
  EXPECT_FALSE(ex.consumer_status.enabled);
  EXPECT_EQ(ex.consumer_status.window, 6);
  EXPECT_EQ(ex.consumer_status.min_lag, 100);
  EXPECT_FALSE(ex.consumer_status.partition_status);
  EXPECT_EQ(ex.timestamp_sampling.fetch_timeout, 1500ms);

  EXPECT_FALSE(ex.otel.enabled);
  EXPECT_EQ(ex.otel.endpoint, "http://otel-collector:4317");
  EXPECT_EQ(ex.otel.export_interval, 30s);

  EXPECT_FALSE(ex.leadership.enabled);
  EXPECT_EQ(ex.leadership.provider, "kubernetes");
  EXPECT_EQ(ex.leadership.lease_name, "klag-lease");
  EXPECT_EQ(ex.leadership.lease_namespace, "monitoring");
  EXPECT_EQ(ex.leadership.identity, "klag-0");
  EXPECT_EQ(ex.leadership.lease_duration_secs, 30);
  EXPECT_EQ(ex.leadership.grace_period_secs, 10);

  ASSERT_EQ(config.clusters.size(), 2u);
  const Cluster& prod = config.clusters[0];
  EXPECT_EQ(prod.name, "production");
  EXPECT_EQ(prod.bootstrap_servers, "kafka1:9092,kafka2:9092");
  EXPECT_EQ(prod.group_whitelist, (std::vector<std::string>{"orders-.*", "payments"}));
  EXPECT_EQ(prod.group_blacklist, (std::vector<std::string>{"orders-test.*"}));
  EXPECT_EQ(prod.topic_whitelist, (std::vector<std::string>{".*"}));
  EXPECT_EQ(prod.topic_blacklist, (std::vector<std::string>{"__.*", "_schemas"}));
  EXPECT_EQ(prod.member_labels, true);
  EXPECT_EQ(prod.consumer_properties, (std::map<std::string, std::string>{
                                          {"security.protocol", "SASL_SSL"},
                                          {"sasl.mechanism", "PLAIN"},
                                          {"sasl.username", "svc"},
                                          {"sasl.password", "s3cret"},
                                          {"session.timeout.ms", "45000"},
                                          {"enable.auto.commit", "false"},
                                          {"retry.backoff.ratio", "0.5"},
                                      }));
  EXPECT_EQ(prod.labels, (Labels{{"environment", "production"},
                                 {"datacenter", "us-east-1"},
                                 {"availability_zone", "a"}}));

  const Cluster& staging = config.clusters[1];
  EXPECT_EQ(staging.name, "staging");
  EXPECT_EQ(staging.bootstrap_servers, "kafka-staging:9092");
  EXPECT_EQ(staging.member_labels, std::nullopt);
  EXPECT_TRUE(staging.labels.empty());
}

TEST(ParseGood, MinimalFileGetsDefaults) {
  auto result = load_file(data_path("minimal.toml"), fake_env());
  ASSERT_TRUE(result) << result.error().to_string();
  const Exporter& ex = result->exporter;
  EXPECT_EQ(ex.poll_interval, 30s);
  EXPECT_EQ(ex.http_port, 8000);
  EXPECT_EQ(ex.http_host, "0.0.0.0");
  EXPECT_EQ(ex.granularity, Granularity::partition);
  EXPECT_TRUE(ex.member_labels);
  EXPECT_EQ(ex.cycle_timeout, std::nullopt);
  EXPECT_EQ(ex.max_staleness, std::nullopt);
  EXPECT_EQ(ex.effective_cycle_timeout(), 30s);
  EXPECT_EQ(ex.effective_max_staleness(), 90s);
  EXPECT_TRUE(ex.timestamp_sampling.enabled);
  EXPECT_EQ(ex.timestamp_sampling.cache_ttl, 60s);
  EXPECT_EQ(ex.timestamp_sampling.max_concurrent_fetches, 10);
  EXPECT_TRUE(ex.consumer_status.enabled);
  EXPECT_EQ(ex.consumer_status.window, 10);
  EXPECT_EQ(ex.consumer_status.min_lag, 1);
  EXPECT_TRUE(ex.consumer_status.partition_status);
  EXPECT_EQ(ex.timestamp_sampling.fetch_timeout, 5s);
  EXPECT_FALSE(ex.otel.enabled);
  EXPECT_EQ(ex.otel.endpoint, "http://localhost:4317");
  EXPECT_EQ(ex.otel.export_interval, 60s);
  EXPECT_FALSE(ex.leadership.enabled);
  EXPECT_EQ(ex.leadership.provider, "kafka");
  EXPECT_EQ(ex.leadership.lease_name, "klag-exporter");
  EXPECT_EQ(ex.leadership.lease_namespace, "default");
  EXPECT_EQ(ex.leadership.identity, "");
  EXPECT_EQ(ex.leadership.lease_duration_secs, 15);
  EXPECT_EQ(ex.leadership.grace_period_secs, 5);

  ASSERT_EQ(result->clusters.size(), 1u);
  const Cluster& c = result->clusters[0];
  EXPECT_EQ(c.name, "local");
  EXPECT_EQ(c.bootstrap_servers, "localhost:9092");
  EXPECT_EQ(c.group_whitelist, (std::vector<std::string>{".*"}));
  EXPECT_TRUE(c.group_blacklist.empty());
  EXPECT_EQ(c.topic_whitelist, (std::vector<std::string>{".*"}));
  EXPECT_EQ(c.topic_blacklist, (std::vector<std::string>{"__.*"}));
  EXPECT_TRUE(c.consumer_properties.empty());
  EXPECT_TRUE(c.labels.empty());
  EXPECT_EQ(c.member_labels, std::nullopt);
}

TEST(ParseGood, ReferenceExampleLoads) {
  auto result = load_file(data_path("reference_example.toml"), fake_env());
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_EQ(result->exporter.granularity, Granularity::topic);
  EXPECT_EQ(result->exporter.timestamp_sampling.max_concurrent_fetches, 5);
  EXPECT_EQ(result->clusters[0].topic_blacklist, (std::vector<std::string>{"^__.*"}));
  EXPECT_EQ(result->clusters[0].labels, (Labels{{"environment", "production"}}));
}

TEST(ParseGood, DurationsOfEveryForm) {
  // Ours, then the reference's (Rust humantime).
  const std::pair<const char*, Duration> cases[] = {
      {"500ms", 500ms}, {"45s", 45s},       {"2m", 2min},    {"1h", 1h},        {"1m30s", 90s},
      {"1h0m1s5ms", 1h + 1s + 5ms},         {"1min", 1min},  {"60sec", 60s},    {"30 s", 30s},
      {"1m 30s", 90s},  {"2hours", 2h},     {"1d", 24h},     {"1.5s", 1500ms},  {"3 minutes", 3min}};
  for (const auto& [text, expected] : cases) {
    auto config = parse_ok(std::string("[exporter]\npoll_interval = \"") + text +
                           "\"\ncycle_timeout = \"" + text + "\"\n" + std::string(kCluster));
    EXPECT_EQ(config.exporter.poll_interval, expected) << text;
    EXPECT_EQ(config.exporter.cycle_timeout, expected) << text;
  }
}

TEST(ParseGood, HttpHostLocalhostIsIpv4Loopback) {
  // One address to bind, independent of the resolver: IPv4 loopback.
  for (const char* host : {"localhost", "LocalHost"}) {
    auto config = parse_ok(std::string("[exporter]\nhttp_host = \"") + host + "\"\n" + std::string(kCluster));
    EXPECT_EQ(config.exporter.http_host, "127.0.0.1") << host;
    EXPECT_TRUE(config.warnings.empty());
  }
}

TEST(ParseGood, HttpHostBracketedIpv6AsTheReferenceWritesIt) {
  auto config = parse_ok("[exporter]\nhttp_host = \"[::]\"\n" + std::string(kCluster));
  EXPECT_EQ(config.exporter.http_host, "::");
}

TEST(ParseGood, MaxStalenessDefaultsToThreeCyclesButAtLeast30s) {
  auto staleness = [](const char* poll) {
    return parse_ok(std::string("[exporter]\npoll_interval = \"") + poll + "\"\n" + std::string(kCluster))
        .exporter.effective_max_staleness();
  };
  EXPECT_EQ(staleness("1s"), 30s);
  EXPECT_EQ(staleness("5s"), 30s);
  EXPECT_EQ(staleness("10s"), 30s);
  EXPECT_EQ(staleness("11s"), 33s);
  EXPECT_EQ(staleness("30s"), 90s);
  EXPECT_EQ(staleness("2m"), 6min);
  // A value in the file wins, even below 30 s.
  EXPECT_EQ(parse_ok("[exporter]\npoll_interval = \"1s\"\nmax_staleness = \"5s\"\n" + std::string(kCluster))
                .exporter.effective_max_staleness(),
            5s);
}

TEST(ParseGood, EnvSubstitutionForms) {
  auto env = fake_env({{"BROKERS", "b1:9092,b2:9092"}, {"TEAM", "core"}, {"EMPTY", ""}});
  auto config = parse_ok(R"([[clusters]]
name = "${TEAM}-kafka"
bootstrap_servers = "${BROKERS}"
group_whitelist = ["${TEAM}-.*", "${PREFIX:-legacy}-.*", "x${UNSET:-}y"]
[clusters.labels]
team = "${TEAM}"
cost = "$$5"
lone = "a$b"
fallback = "${EMPTY:-none}"
)",
                         env);
  ASSERT_EQ(config.clusters.size(), 1u);
  const Cluster& c = config.clusters[0];
  EXPECT_EQ(c.name, "core-kafka");
  EXPECT_EQ(c.bootstrap_servers, "b1:9092,b2:9092");
  EXPECT_EQ(c.group_whitelist, (std::vector<std::string>{"core-.*", "legacy-.*", "xy"}));
  EXPECT_EQ(c.labels,
            (Labels{{"team", "core"}, {"cost", "$5"}, {"lone", "a$b"}, {"fallback", "none"}}));
}

TEST(ParseGood, SubstitutedValuesCannotBreakTomlQuoting) {
  // Textual substitution would turn these into TOML syntax errors or inject keys.
  const std::string nasty = "pa\"ss\\word\nhttp_port = 1";
  auto env = fake_env({{"KAFKA_PASSWORD", nasty}});
  auto config =
      parse_ok(std::string(kCluster) +
                   "[clusters.consumer_properties]\n\"sasl.password\" = \"${KAFKA_PASSWORD}\"\n",
               env);
  ASSERT_EQ(config.clusters.size(), 1u);
  EXPECT_EQ(config.clusters[0].consumer_properties.at("sasl.password"), nasty);
  EXPECT_EQ(config.exporter.http_port, 8000);
}

TEST(ParseGood, LabelsKeepFileOrder) {
  auto config = parse_ok(std::string(kCluster) +
                         "[clusters.labels]\nzulu = \"1\"\nalpha = \"2\"\nmike = \"3\"\n");
  EXPECT_EQ(config.clusters[0].labels, (Labels{{"zulu", "1"}, {"alpha", "2"}, {"mike", "3"}}));
}

TEST(ParseGood, ConsumerPropertiesAcceptScalarsAndDottedKeys) {
  auto config = parse_ok(std::string(kCluster) + R"([clusters.consumer_properties]
"security.protocol" = "SSL"
sasl.mechanism = "PLAIN"
fetch.wait.max.ms = 0x1F4
"enable.partition.eof" = true
"some.float" = 2.0
"other.float" = 1e300
)");
  EXPECT_EQ(config.clusters[0].consumer_properties,
            (std::map<std::string, std::string>{{"security.protocol", "SSL"},
                                                {"sasl.mechanism", "PLAIN"},
                                                {"fetch.wait.max.ms", "500"},
                                                {"enable.partition.eof", "true"},
                                                {"some.float", "2.0"},
                                                {"other.float", "1e+300"}}));
}

TEST(ParseGood, PortZeroAndIpv6Host) {
  auto config =
      parse_ok("[exporter]\nhttp_port = 0\nhttp_host = \"::1\"\n" + std::string(kCluster));
  EXPECT_EQ(config.exporter.http_port, 0);
  EXPECT_EQ(config.exporter.http_host, "::1");
}

TEST(ParseGood, EmptyListsAndPerClusterMemberLabels) {
  auto config = parse_ok(std::string(kCluster) +
                         "group_whitelist = []\ntopic_blacklist = []\nmember_labels = false\n");
  const Cluster& c = config.clusters[0];
  EXPECT_TRUE(c.group_whitelist.empty());
  EXPECT_TRUE(c.topic_blacklist.empty());
  EXPECT_EQ(c.member_labels, false);
}

TEST(ParseGood, LeadershipAndOtelDisabledTablesLoad) {
  auto config = parse_ok(
      "[exporter.leadership]\nprovider = \"kafka\"\n[exporter.otel]\nendpoint = "
      "\"http://o:4317\"\n" +
      std::string(kCluster));
  EXPECT_EQ(config.exporter.leadership.provider, "kafka");
  EXPECT_EQ(config.exporter.otel.endpoint, "http://o:4317");
}

}  // namespace
}  // namespace klag::config
