#include "otlp/encode.h"

#include <gtest/gtest.h>

#include <map>

#include "lag/compute.h"
#include "metrics/render.h"

namespace klag::otlp {
namespace {

namespace pb_metrics = opentelemetry::proto::metrics::v1;

collect::ClusterStatus cluster() {
  lag::ClusterSample s;
  s.partitions = {{"t", 0, 0, 10, 10}, {"t", 1, 0, 7, 7}};
  s.committed = {{"g", "t", 0, 4}, {"g", "t", 1, 7}};
  s.timestamps_enabled = true;
  s.timestamps = {{"t", 0, 4, 1000, 4}};
  collect::ClusterStatus c;
  c.name = "c1";
  c.labels = {{"env", "prod"}};
  c.first_cycle_done = true;
  c.up = true;
  c.cycles = 7;
  c.sampling_enabled = true;
  c.last_success_unix_seconds = 5.5;
  c.lag = std::make_shared<const lag::ClusterLag>(lag::compute(s, 3500));
  return c;
}

const pb_metrics::Metric* find(const ExportRequest& req, const std::string& name) {
  for (const auto& m : req.resource_metrics(0).scope_metrics(0).metrics()) {
    if (m.name() == name) return &m;
  }
  return nullptr;
}

std::map<std::string, std::string> attrs(const pb_metrics::NumberDataPoint& p) {
  std::map<std::string, std::string> out;
  for (const auto& kv : p.attributes()) out[kv.key()] = kv.value().string_value();
  return out;
}

TEST(Encode, GaugesKeepNameAttributesAndValue) {
  const auto req = encode_metrics({cluster()}, {{"service.name", "klag-exporter"}}, {100, 200});
  const auto* lag = find(req, "kafka_consumergroup_group_lag");
  ASSERT_NE(lag, nullptr);
  ASSERT_TRUE(lag->has_gauge());
  ASSERT_EQ(lag->gauge().data_points_size(), 2);
  const auto& p0 = lag->gauge().data_points(0);
  EXPECT_EQ(p0.as_int(), 6);
  EXPECT_EQ(p0.time_unix_nano(), 200u);
  EXPECT_EQ(attrs(p0), (std::map<std::string, std::string>{{"cluster_name", "c1"},
                                                            {"group", "g"},
                                                            {"topic", "t"},
                                                            {"partition", "0"},
                                                            {"member_host", ""},
                                                            {"consumer_id", ""},
                                                            {"client_id", ""},
                                                            {"env", "prod"}}));
  const auto* secs = find(req, "kafka_consumergroup_group_lag_seconds");
  ASSERT_NE(secs, nullptr);
  EXPECT_DOUBLE_EQ(secs->gauge().data_points(0).as_double(), 2.5);
  EXPECT_FALSE(secs->description().empty());
}

TEST(Encode, CountersAreCumulativeMonotonicSumsFromProcessStart) {
  const auto req = encode_metrics({cluster()}, {}, {100, 200});
  const auto* cycles = find(req, "kafka_lag_exporter_cycles_total");
  ASSERT_NE(cycles, nullptr);
  ASSERT_TRUE(cycles->has_sum());
  EXPECT_TRUE(cycles->sum().is_monotonic());
  EXPECT_EQ(cycles->sum().aggregation_temporality(), pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
  EXPECT_EQ(cycles->sum().data_points(0).start_time_unix_nano(), 100u);
  EXPECT_EQ(cycles->sum().data_points(0).as_int(), 7);
}

TEST(Encode, SameSeriesCountAsTheTextAndNoEmptyMetrics) {
  const auto clusters = std::vector<collect::ClusterStatus>{cluster()};
  const auto req = encode_metrics(clusters, {}, {1, 2});
  size_t points = 0;
  for (const auto& m : req.resource_metrics(0).scope_metrics(0).metrics()) {
    const size_t n = m.has_sum() ? m.sum().data_points_size() : m.gauge().data_points_size();
    EXPECT_GT(n, 0u) << m.name();
    points += n;
  }
  const std::string text = metrics::render_prometheus(clusters);
  size_t lines = 0;
  for (size_t pos = 0; pos < text.size(); pos = text.find('\n', pos) + 1) lines += text[pos] != '#';
  EXPECT_EQ(points, lines);
}

TEST(ResourceAttributes, OursThenTheEnvironmentsWhichOverrides) {
  const auto a = resource_attributes("1.2.3", "host-1", "deployment.environment=prod, service.name=lag%20mon,bad,=x");
  EXPECT_EQ(a, (Attributes{{"service.name", "lag mon"},
                           {"service.version", "1.2.3"},
                           {"service.instance.id", "host-1"},
                           {"deployment.environment", "prod"}}));
  EXPECT_EQ(resource_attributes("v", "i", "").size(), 3u);
}

}  // namespace
}  // namespace klag::otlp
