// The reference exporter's config files load unchanged: its keys are
// honoured where they mean something here, and each of the others is
// accepted with one warning that names it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "test_support.h"

namespace klag::config {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::data_path;
using testing::expect_error;
using testing::fake_env;
using testing::kCluster;
using testing::parse_failure;
using testing::parse_ok;

std::vector<std::string> warned_keys(const Config& config) {
  std::vector<std::string> keys;
  for (const auto& w : config.warnings) keys.push_back(w.key);
  return keys;
}

const ConfigWarning* warning_for(const Config& config, std::string_view key) {
  auto it = std::ranges::find(config.warnings, key, &ConfigWarning::key);
  return it == config.warnings.end() ? nullptr : &*it;
}

TEST(ReferenceCompat, ExampleLayoutWithEveryKeyLoads) {
  auto result = load_file(data_path("reference_full.toml"), fake_env());
  ASSERT_TRUE(result) << result.error().to_string();
  const Config& config = *result;

  // One warning per key without an effect here, in file order.
  EXPECT_EQ(warned_keys(config), (std::vector<std::string>{
                                     "exporter.timestamp_sampling.mode",
                                     "exporter.timestamp_sampling.max_concurrent_fetches",
                                     "exporter.timestamp_sampling.skip_data_loss_partitions",
                                     "exporter.timestamp_sampling.rate_history_samples",
                                     "exporter.timestamp_sampling.rate_history_max_age",
                                     "exporter.timestamp_sampling.rate_min_msgs_per_sec",
                                     "exporter.performance.kafka_timeout",
                                     "exporter.performance.offset_fetch_timeout",
                                     "exporter.performance.group_fetch_retries",
                                     "exporter.performance.max_concurrent_groups",
                                     "exporter.performance.max_concurrent_watermarks",
                                     "exporter.performance.client_recycle_interval",
                                     "exporter.performance.max_blocking_threads",
                                     "exporter.performance.compacted_topics_cache_ttl",
                                     "exporter.performance.metadata_cache_ttl",
                                     "exporter.performance.consumer_groups_cache_ttl",
                                 }));
  const ConfigWarning* mode = warning_for(config, "exporter.timestamp_sampling.mode");
  ASSERT_NE(mode, nullptr);
  EXPECT_EQ(mode->line, 14);
  EXPECT_THAT(mode->to_string(),
              ::testing::StartsWith("config warning at exporter.timestamp_sampling.mode (line 14): \"rate\""));
  EXPECT_THAT(mode->message, HasSubstr("read from the record at the committed offset"));
  EXPECT_THAT(warning_for(config, "exporter.performance.kafka_timeout")->message,
              HasSubstr("ignored: each step of a cycle gets a share of exporter.cycle_timeout"));

  // The keys that mean something here took effect.
  const Exporter& ex = config.exporter;
  EXPECT_EQ(ex.poll_interval, 1min);
  EXPECT_EQ(ex.http_port, 9309);
  EXPECT_EQ(ex.http_host, "127.0.0.1");
  EXPECT_EQ(ex.granularity, Granularity::topic);
  EXPECT_EQ(ex.max_staleness, 270s);  // staleness_threshold
  EXPECT_EQ(ex.effective_max_staleness(), 270s);
  EXPECT_TRUE(ex.timestamp_sampling.enabled);
  EXPECT_EQ(ex.timestamp_sampling.cache_ttl, 90s);
  EXPECT_EQ(ex.timestamp_sampling.fetch_timeout, 2500ms);
  EXPECT_FALSE(ex.otel.enabled);
  EXPECT_EQ(ex.otel.endpoint, "http://collector.observability:4317");
  EXPECT_EQ(ex.otel.export_interval, 2min);
  ASSERT_EQ(config.clusters.size(), 1u);
  const Cluster& c = config.clusters[0];
  EXPECT_EQ(c.name, "payments");
  EXPECT_EQ(c.bootstrap_servers, "broker-a:9092,broker-b:9092");
  EXPECT_EQ(c.group_whitelist, (std::vector<std::string>{"payments-.*", "ledger"}));
  EXPECT_TRUE(c.group_blacklist.empty());
  EXPECT_EQ(c.topic_blacklist, (std::vector<std::string>{"^__.*"}));
  EXPECT_EQ(c.consumer_properties.at("client.id"), "lag-watch");
  EXPECT_EQ(c.labels, (std::vector<std::pair<std::string, std::string>>{{"environment", "staging"}}));
}

TEST(ReferenceCompat, HelmChartLayoutLoads) {
  auto result = load_file(data_path("reference_helm.toml"), fake_env());
  ASSERT_TRUE(result) << result.error().to_string();
  const Config& config = *result;

  // mode = "message" is what we do, skip_data_loss_partitions = false too:
  // no warning for either, nor for the chart's empty lease_namespace while
  // leadership is off.
  EXPECT_EQ(warned_keys(config), (std::vector<std::string>{
                                     "exporter.timestamp_sampling.max_concurrent_fetches",
                                     "exporter.timestamp_sampling.rate_history_samples",
                                     "exporter.timestamp_sampling.rate_history_max_age",
                                     "exporter.timestamp_sampling.rate_min_msgs_per_sec",
                                     "exporter.performance.kafka_timeout",
                                     "exporter.performance.offset_fetch_timeout",
                                     "exporter.performance.group_fetch_retries",
                                     "exporter.performance.max_concurrent_groups",
                                     "exporter.performance.max_concurrent_watermarks",
                                     "exporter.performance.max_blocking_threads",
                                     "exporter.performance.client_recycle_interval",
                                 }));
  EXPECT_THAT(warning_for(config, "exporter.timestamp_sampling.rate_history_samples")->message,
              HasSubstr("only used by mode \"rate\""));

  const Exporter& ex = config.exporter;
  EXPECT_EQ(ex.poll_interval, 20s);
  EXPECT_EQ(ex.http_port, 8080);
  EXPECT_EQ(ex.http_host, "127.0.0.1");  // "localhost"
  EXPECT_EQ(ex.granularity, Granularity::partition);
  EXPECT_EQ(ex.max_staleness, 2min);
  EXPECT_EQ(ex.timestamp_sampling.cache_ttl, 45s);
  EXPECT_EQ(ex.timestamp_sampling.fetch_timeout, 3s);
  EXPECT_EQ(ex.otel.export_interval, 1min);
  EXPECT_FALSE(ex.leadership.enabled);
  EXPECT_EQ(ex.leadership.provider, "kubernetes");
  EXPECT_EQ(ex.leadership.lease_name, "lag-exporter-lease");
  EXPECT_EQ(ex.leadership.lease_namespace, "default");  // "" means unset
  EXPECT_EQ(ex.leadership.lease_duration_secs, 20);
  EXPECT_EQ(ex.leadership.grace_period_secs, 6);
  EXPECT_EQ(ex.leadership.identity, "replica-a");
  ASSERT_EQ(config.clusters.size(), 1u);
  EXPECT_EQ(config.clusters[0].group_blacklist, (std::vector<std::string>{"tmp-.*"}));
  EXPECT_EQ(config.clusters[0].consumer_properties.at("security.protocol"), "SSL");
  EXPECT_EQ(config.clusters[0].labels, (std::vector<std::pair<std::string, std::string>>{{"region", "eu-west-1"}}));
}

std::string sampling(std::string_view body) {
  return "[exporter.timestamp_sampling]\n" + std::string(body) + std::string(kCluster);
}

TEST(ReferenceCompat, ModeValues) {
  EXPECT_TRUE(parse_ok(sampling("mode = \"message\"\n")).warnings.empty());
  const Config rate = parse_ok(sampling("mode = \"rate\"\n"));
  ASSERT_EQ(rate.warnings.size(), 1u);
  EXPECT_EQ(rate.warnings[0].key, "exporter.timestamp_sampling.mode");
  expect_error(parse_failure(sampling("mode = \"estimate\"\n")), "exporter.timestamp_sampling.mode", 2,
               "must be \"rate\" or \"message\", got \"estimate\"");
  expect_error(parse_failure(sampling("mode = 1\n")), "exporter.timestamp_sampling.mode", 2,
               "expected a string, got an integer");
}

TEST(ReferenceCompat, SkipDataLossPartitionsWarnsOnlyWhenItWouldChangeSomething) {
  EXPECT_TRUE(parse_ok(sampling("skip_data_loss_partitions = false\n")).warnings.empty());
  const Config skip = parse_ok(sampling("skip_data_loss_partitions = true\n"));
  ASSERT_EQ(skip.warnings.size(), 1u);
  EXPECT_THAT(skip.warnings[0].message, HasSubstr("oldest surviving record is still read"));
  expect_error(parse_failure(sampling("skip_data_loss_partitions = \"yes\"\n")),
               "exporter.timestamp_sampling.skip_data_loss_partitions", 2, "expected a boolean");
}

TEST(ReferenceCompat, ValueTypesAreCheckedAsTheReferenceDoes) {
  expect_error(parse_failure(sampling("rate_history_max_age = 600\n")),
               "exporter.timestamp_sampling.rate_history_max_age", 2, "expected a duration string");
  expect_error(parse_failure(sampling("rate_min_msgs_per_sec = -0.5\n")),
               "exporter.timestamp_sampling.rate_min_msgs_per_sec", 2, "must not be negative");
  expect_error(parse_failure(sampling("rate_min_msgs_per_sec = nan\n")),
               "exporter.timestamp_sampling.rate_min_msgs_per_sec", 2, "must be a finite number");
  expect_error(parse_failure(sampling("rate_history_samples = -1\n")),
               "exporter.timestamp_sampling.rate_history_samples", 2, "must be between 0 and");
  expect_error(parse_failure("[exporter.performance]\nmax_blocking_threads = \"64\"\n" + std::string(kCluster)),
               "exporter.performance.max_blocking_threads", 2, "expected an integer, got a string");
  expect_error(parse_failure("[exporter.performance]\nkafka_timeout = \"30 parsecs\"\n" + std::string(kCluster)),
               "exporter.performance.kafka_timeout", 2, "unknown unit \"parsecs\"");
  expect_error(parse_failure("[exporter]\nperformance = 3\n" + std::string(kCluster)), "exporter.performance", 2,
               "expected a table, got an integer");
  // The reference's "0 disables" values.
  const Config zero = parse_ok("[exporter.performance]\nmetadata_cache_ttl = \"0s\"\n" + std::string(kCluster));
  EXPECT_EQ(zero.warnings.size(), 1u);
}

TEST(ReferenceCompat, StalenessThresholdIsMaxStaleness) {
  const Config config = parse_ok("[exporter]\nstaleness_threshold = \"10m\"\n" + std::string(kCluster));
  EXPECT_TRUE(config.warnings.empty());
  EXPECT_EQ(config.exporter.max_staleness, 10min);
  expect_error(parse_failure("[exporter]\nmax_staleness = \"1m\"\nstaleness_threshold = \"2m\"\n" +
                             std::string(kCluster)),
               "exporter.staleness_threshold", 3, "keep one of the two");
  expect_error(parse_failure("[exporter]\nstaleness_threshold = \"0s\"\n" + std::string(kCluster)),
               "exporter.staleness_threshold", 2, "must be greater than 0");
}

TEST(ReferenceCompat, EmptyLeaseNamespaceWarnsWhenTheLeaseIsUsed) {
  const Config config =
      parse_ok("[exporter.leadership]\nenabled = true\nprovider = \"kubernetes\"\nlease_namespace = \"\"\n" +
                   std::string(kCluster),
               fake_env({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}));
  EXPECT_EQ(config.exporter.leadership.lease_namespace, "default");
  ASSERT_EQ(config.warnings.size(), 1u);
  EXPECT_EQ(config.warnings[0].key, "exporter.leadership.lease_namespace");
  EXPECT_THAT(config.warnings[0].message, HasSubstr("namespace \"default\""));
}

TEST(ReferenceCompat, OptionalEnvironmentVariables) {
  // ${?VAR} is the reference's optional variable: "" when unset.
  const Config config =
      parse_ok(std::string(kCluster) + "[clusters.labels]\nteam = \"x${?TEAM}y\"\nzone = \"${?ZONE:-a}\"\n",
               fake_env({{"ZONE", ""}}));
  EXPECT_EQ(config.clusters[0].labels,
            (std::vector<std::pair<std::string, std::string>>{{"team", "xy"}, {"zone", "a"}}));
  EXPECT_EQ(parse_ok(std::string(kCluster) + "[clusters.labels]\nteam = \"${?TEAM}\"\n", fake_env({{"TEAM", "core"}}))
                .clusters[0]
                .labels[0]
                .second,
            "core");
}

TEST(ReferenceCompat, WarningText) {
  const Config config = parse_ok("[exporter.performance]\nmax_concurrent_groups = 4\n" + std::string(kCluster));
  ASSERT_EQ(config.warnings.size(), 1u);
  EXPECT_EQ(config.warnings[0].to_string(),
            "config warning at exporter.performance.max_concurrent_groups (line 2): ignored: the committed offsets "
            "of all groups are requested at once, bounded by exporter.cycle_timeout");
}

}  // namespace
}  // namespace klag::config
