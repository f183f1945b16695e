#include "metrics/families.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "lag/compute.h"
#include "lag/history.h"
#include "lag/shard.h"
#include "metrics/render.h"

namespace klag::metrics {
namespace {

// Records what a sink sees, to check the walk's contract independently of
// the text format.
class RecordingSink final : public SeriesSink {
 public:
  void family(const Family& f) override {
    ++families;
    current = f.name;
    types[current] = f.type;
  }
  void begin_series() override {
    EXPECT_FALSE(open) << "value() missing before the next series of " << current;
    open = true;
    labels.clear();
  }
  void label(std::string_view name, std::string_view) override { labels.emplace_back(name); }
  void label(std::string_view name, int64_t) override { labels.emplace_back(name); }
  void value(int64_t) override { end(); }
  void value(double) override { end(); }

  int families = 0;
  int series = 0;
  bool open = false;
  std::string current;
  std::vector<std::string> labels;
  std::map<std::string, MetricType> types;
  std::map<std::string, std::set<std::vector<std::string>>> label_sets;

 private:
  void end() {
    EXPECT_TRUE(open);
    open = false;
    ++series;
    label_sets[current].insert(labels);
  }
};

// compute() of the same sample twice, 1 s apart, through a History with a
// window of two: every status, rate and catch-up series is present.
std::shared_ptr<const lag::ClusterLag> observed_twice(const lag::ClusterSample& s, int64_t now_ms) {
  lag::History history({.window = 2, .min_lag = 1});
  history.observe(lag::compute(s, now_ms - 1000), now_ms - 1000);
  return history.observe(lag::compute(s, now_ms), now_ms);
}

collect::ClusterStatus cluster() {
  lag::ClusterSample s;
  s.partitions = {{"t", 0, 0, 10, 10}};
  s.committed = {{"g", "t", 0, 4}};
  s.timestamps_enabled = true;
  s.timestamps = {{"t", 0, 4, 1000, 4}};
  collect::ClusterStatus c;
  c.name = "c";
  c.labels = {{"env", "x"}};
  c.first_cycle_done = true;
  c.up = true;
  c.sampling_enabled = true;
  c.last_success_unix_seconds = 5;
  c.lag = observed_twice(s, 5000);
  return c;
}

TEST(Families, EverySeriesOfAFamilyHasOneLabelSetAndCustomLabelsLast) {
  RecordingSink sink;
  emit_metrics({cluster()}, sink);
  EXPECT_FALSE(sink.open);
  for (const auto& [family, sets] : sink.label_sets) {
    if (family == "kafka_lag_exporter_up") {
      EXPECT_EQ(sets.size(), 2u);  // the unlabelled one and the cluster's
      continue;
    }
    if (family == "kafka_lag_exporter_config_last_reload_successful") {
      EXPECT_TRUE(sets.begin()->empty());  // the process's, not a cluster's
      continue;
    }
    EXPECT_EQ(sets.size(), 1u) << family;
    const auto& labels = *sets.begin();
    ASSERT_GE(labels.size(), 2u) << family;
    EXPECT_EQ(labels.front(), "cluster_name") << family;
    EXPECT_EQ(labels.back(), "env") << family;
  }
}

TEST(Families, CountersAreNamedTotalAndTheTextHasOneLinePerSeries) {
  RecordingSink sink;
  emit_metrics({cluster()}, sink);
  for (const auto& [name, type] : sink.types) {
    if (type == MetricType::counter) {
      EXPECT_TRUE(name.ends_with("_total")) << name;
    }
  }
  const std::string text = render_prometheus({cluster()});
  int lines = 0;
  int comments = 0;
  for (size_t pos = 0; pos < text.size(); pos = text.find('\n', pos) + 1) {
    (text[pos] == '#' ? comments : lines)++;
  }
  EXPECT_EQ(lines, sink.series);
  EXPECT_EQ(comments, 2 * sink.families);
}

TEST(Families, HistoryFamiliesFollowTheGranularity) {
  collect::ClusterStatus c = cluster();
  RecordingSink by_partition;
  emit_metrics({c}, by_partition);
  using Labels = std::vector<std::string>;
  EXPECT_EQ(by_partition.label_sets["kafka_partition_produce_rate"],
            (std::set<Labels>{{"cluster_name", "topic", "partition", "env"}}));
  EXPECT_EQ(by_partition.label_sets["kafka_consumergroup_group_catchup_seconds"],
            (std::set<Labels>{{"cluster_name", "group", "topic", "partition", "member_host", "consumer_id", "client_id", "env"}}));
  EXPECT_EQ(by_partition.label_sets["kafka_consumergroup_partition_status"],
            (std::set<Labels>{{"cluster_name", "group", "topic", "partition", "status", "env"}}));

  c.partition_status = false;
  RecordingSink without_partition_status;
  emit_metrics({c}, without_partition_status);
  EXPECT_FALSE(without_partition_status.label_sets.contains("kafka_consumergroup_partition_status"));
  EXPECT_TRUE(without_partition_status.label_sets.contains("kafka_consumergroup_group_status"));
  c.partition_status = true;

  c.granularity = config::Granularity::topic;
  RecordingSink by_topic;
  emit_metrics({c}, by_topic);
  EXPECT_EQ(by_topic.label_sets["kafka_partition_produce_rate"], (std::set<Labels>{{"cluster_name", "topic", "env"}}));
  EXPECT_EQ(by_topic.label_sets["kafka_consumergroup_group_consume_rate"],
            (std::set<Labels>{{"cluster_name", "group", "topic", "env"}}));
  EXPECT_EQ(by_topic.label_sets["kafka_consumergroup_group_catchup_seconds"],
            (std::set<Labels>{{"cluster_name", "group", "topic", "env"}}));
  EXPECT_FALSE(by_topic.label_sets.contains("kafka_consumergroup_partition_status"));
  // A topic with a partition whose watermarks were not read has no sum.
  {
    auto partial = std::make_shared<lag::ClusterLag>(*c.lag);
    partial->incomplete_topics = {"t"};
    collect::ClusterStatus d = c;
    d.lag = partial;
    RecordingSink sink;
    emit_metrics({d}, sink);
    EXPECT_FALSE(sink.label_sets.contains("kafka_partition_produce_rate"));
  }
  EXPECT_EQ(by_topic.label_sets["kafka_consumergroup_group_status"],
            (std::set<Labels>{{"cluster_name", "group", "status", "env"}}));

  // Without a history (consumer_status.enabled = false) none of them.
  c.lag = std::make_shared<const lag::ClusterLag>(lag::compute(lag::ClusterSample{}, 5000));
  RecordingSink without;
  emit_metrics({c}, without);
  for (const char* f : {"kafka_partition_produce_rate", "kafka_consumergroup_group_consume_rate",
                        "kafka_consumergroup_group_catchup_seconds", "kafka_consumergroup_group_status"}) {
    EXPECT_FALSE(without.label_sets.contains(f)) << f;
  }
}

TEST(Families, StatusIsOneHot) {
  const std::string text = render_prometheus({cluster()});
  // g on t/0: committed 4 of 10 twice, no members: stop.
  EXPECT_NE(text.find("kafka_consumergroup_group_status{cluster_name=\"c\",group=\"g\",status=\"stop\",env=\"x\"} 1\n"),
            std::string::npos);
  int ones = 0, zeros = 0;
  for (size_t pos = text.find("kafka_consumergroup_group_status{"); pos != std::string::npos;
       pos = text.find("kafka_consumergroup_group_status{", pos + 1)) {
    const size_t eol = text.find('\n', pos);
    (text.compare(eol - 2, 2, " 1") == 0 ? ones : zeros)++;
  }
  EXPECT_EQ(ones, 1);
  EXPECT_EQ(zeros, 5);
}

// Series lines of a rendering ("name{labels} value") in order, comments dropped.
std::vector<std::string> lines_in_order(const std::string& text) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end - pos);
    if (!line.empty() && line[0] != '#') out.push_back(line);
    pos = end + 1;
  }
  return out;
}

// The same, as a set.
std::multiset<std::string> series_lines(const std::string& text) {
  const std::vector<std::string> lines = lines_in_order(text);
  return {lines.begin(), lines.end()};
}

TEST(Families, PartialErrorsAreCountedPerClusterAndKindFromTheStart) {
  collect::ClusterStatus fresh;  // before its first cycle: zeros, so rate() works at once
  fresh.name = "new";
  collect::ClusterStatus c = cluster();
  c.partial_errors_total = {.list_groups = 1, .describe_groups = 2, .committed_offsets = 3999, .watermarks = 12, .metadata = 1};
  RecordingSink sink;
  emit_metrics({fresh, c}, sink);
  EXPECT_EQ(sink.types["kafka_lag_exporter_cycle_partial_errors_total"], MetricType::counter);
  std::multiset<std::string> lines;
  for (const auto& line : series_lines(render_prometheus({fresh, c}))) {
    if (line.starts_with("kafka_lag_exporter_cycle_partial_errors_total")) lines.insert(line);
  }
  EXPECT_EQ(lines, (std::multiset<std::string>{
                       "kafka_lag_exporter_cycle_partial_errors_total{cluster_name=\"new\",kind=\"list_groups\"} 0",
                       "kafka_lag_exporter_cycle_partial_errors_total{cluster_name=\"new\",kind=\"describe_groups\"} 0",
                       "kafka_lag_exporter_cycle_partial_errors_total{cluster_name=\"new\",kind=\"committed_offsets\"} 0",
                       "kafka_lag_exporter_cycle_partial_errors_total{cluster_name=\"new\",kind=\"watermarks\"} 0",
                       "kafka_lag_exporter_cycle_partial_errors_total{cluster_name=\"new\",kind=\"metadata\"} 0",
                       "kafka_lag_exporter_cycle_partial_errors_total{cluster_name=\"c\",kind=\"list_groups\",env=\"x\"} 1",
                       "kafka_lag_exporter_cycle_partial_errors_total{cluster_name=\"c\",kind=\"describe_groups\",env=\"x\"} 2",
                       "kafka_lag_exporter_cycle_partial_errors_total{cluster_name=\"c\",kind=\"committed_offsets\",env=\"x\"} 3999",
                       "kafka_lag_exporter_cycle_partial_errors_total{cluster_name=\"c\",kind=\"watermarks\",env=\"x\"} 12",
                       "kafka_lag_exporter_cycle_partial_errors_total{cluster_name=\"c\",kind=\"metadata\",env=\"x\"} 1"}));
  // In the order of collect::kPartialErrorKinds, every cluster alike.
  std::vector<std::string> kinds;
  for (const auto& line : lines_in_order(render_prometheus({c}))) {
    const size_t at = line.find("kind=\"");
    if (line.starts_with("kafka_lag_exporter_cycle_partial_errors_total{") && at != std::string::npos) {
      kinds.push_back(line.substr(at + 6, line.find('"', at + 6) - at - 6));
    }
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"list_groups", "describe_groups", "committed_offsets", "watermarks",
                                             "metadata"}));
}

TEST(Families, GroupStateCodesAreTheReferenceOnes) {
  // The reference klag-exporter's numbers, so its dashboards keep working.
  EXPECT_EQ(group_state_code("Unknown"), 0);
  EXPECT_EQ(group_state_code("PreparingRebalance"), 1);
  EXPECT_EQ(group_state_code("CompletingRebalance"), 2);
  EXPECT_EQ(group_state_code("Stable"), 3);
  EXPECT_EQ(group_state_code("Dead"), 4);
  EXPECT_EQ(group_state_code("Empty"), 5);
  EXPECT_EQ(group_state_code("Assigning"), 6);
  EXPECT_EQ(group_state_code("Reconciling"), 7);
  // Names it does not know (a Streams group's NotReady), and case, are 0.
  EXPECT_EQ(group_state_code("NotReady"), 0);
  EXPECT_EQ(group_state_code("stable"), 0);
  EXPECT_EQ(group_state_code(""), 0);
}

TEST(Families, GroupStateHasOneSeriesPerGroupWithItsCode) {
  lag::ClusterSample s;
  s.partitions = {{"t", 0, 0, 10, 10}};
  s.groups = {lag::Group{.id = "live", .state = "Stable", .assignor = "range", .described = true},
              lag::Group{.id = "idle", .state = "Empty", .described = true},
              lag::Group{.id = "moving", .state = "PreparingRebalance", .described = true},
              lag::Group{.id = "undescribed"}};
  s.committed = {{"live", "t", 0, 4}};  // the others commit nothing: still a state
  collect::ClusterStatus c = cluster();
  c.lag = std::make_shared<const lag::ClusterLag>(lag::compute(s, 5000));
  const auto lines = series_lines(render_prometheus({c}));
  std::multiset<std::string> states;
  for (const auto& line : lines) {
    if (line.starts_with("kafka_consumergroup_group_state{")) states.insert(line);
  }
  EXPECT_EQ(states, (std::multiset<std::string>{
                        "kafka_consumergroup_group_state{cluster_name=\"c\",group=\"idle\",env=\"x\"} 5",
                        "kafka_consumergroup_group_state{cluster_name=\"c\",group=\"live\",env=\"x\"} 3",
                        "kafka_consumergroup_group_state{cluster_name=\"c\",group=\"moving\",env=\"x\"} 1",
                        "kafka_consumergroup_group_state{cluster_name=\"c\",group=\"undescribed\",env=\"x\"} 0"}));
  // A gauge, as in the reference; absent while the cluster has no lag data.
  RecordingSink sink;
  emit_metrics({c}, sink);
  EXPECT_EQ(sink.types["kafka_consumergroup_group_state"], MetricType::gauge);
  c.lag = nullptr;
  const std::string none = render_prometheus({c});
  EXPECT_NE(none.find("# TYPE kafka_consumergroup_group_state gauge\n"), std::string::npos);
  EXPECT_EQ(none.find("kafka_consumergroup_group_state{"), std::string::npos);
}

// A cluster with many groups, some with data loss, so shards split them.
collect::ClusterStatus many_groups() {
  lag::ClusterSample s;
  s.partitions = {{"t", 0, 5, 100, 100}, {"t", 1, 0, 100, 100}};
  for (int g = 0; g < 40; ++g) {
    const std::string id = "group-" + std::to_string(g);
    s.groups.push_back({.id = id, .state = "Empty", .described = true});
    s.committed.push_back({id, "t", 0, g % 3 == 0 ? 2 : 50});  // below log start 5: data loss
    s.committed.push_back({id, "t", 1, 60});
  }
  collect::ClusterStatus c = cluster();
  c.lag = observed_twice(s, 5000);
  return c;
}

TEST(Scope, StandbyServesOnlyTheProcessFamiliesAndLeaderZero) {
  ExporterStats stats;
  stats.scope.leader_provider = "kafka";
  stats.scope.standby = true;
  const auto lines = series_lines(render_prometheus({cluster()}, stats));
  EXPECT_EQ(lines, (std::multiset<std::string>{"kafka_lag_exporter_up 1",
                                               "kafka_lag_exporter_config_last_reload_successful 1",
                                               "kafka_lag_exporter_leader{provider=\"kafka\"} 0"}));
}

TEST(Scope, LeaderServesEverythingAndLeaderOne) {
  ExporterStats stats;
  stats.scope.leader_provider = "kubernetes";
  const auto with = series_lines(render_prometheus({cluster()}, stats));
  const auto without = series_lines(render_prometheus({cluster()}, ExporterStats{}));
  EXPECT_TRUE(with.contains("kafka_lag_exporter_leader{provider=\"kubernetes\"} 1"));
  EXPECT_EQ(with.size(), without.size() + 1);
}

TEST(Scope, OwnsFollowsTheStableHash) {
  Scope scope;
  EXPECT_TRUE(scope.owns("c", "anything"));  // no sharding: everything
  scope.shards = {false, false, false, false};
  scope.shards[lag::shard_of("c", "g1", 4)] = true;
  EXPECT_TRUE(scope.owns("c", "g1"));
  EXPECT_EQ(scope.owns("c", "g2"), lag::shard_of("c", "g2", 4) == lag::shard_of("c", "g1", 4));
  // The same group on another cluster is another key.
  EXPECT_EQ(scope.owns("other", "g1"), lag::shard_of("other", "g1", 4) == lag::shard_of("c", "g1", 4));
}

TEST(Scope, ShardsPartitionTheSeriesWithNothingMissingOrDoubled) {
  const std::vector<collect::ClusterStatus> clusters{many_groups()};
  const auto single = series_lines(render_prometheus(clusters, ExporterStats{}));
  // Three replicas holding shards {0,3}, {1,4}, {2,5} of 6.
  std::multiset<std::string> merged;
  int64_t data_loss_sum = 0;
  for (int r = 0; r < 3; ++r) {
    ExporterStats stats;
    stats.scope.shards.assign(6, false);
    stats.scope.shards[r] = stats.scope.shards[r + 3] = true;
    for (const auto& line : series_lines(render_prometheus(clusters, stats))) {
      // Per-replica families: the process's own, and the group-partition
      // counts that replicas add up.
      if (line.starts_with("kafka_lag_exporter_up ") || line.starts_with("kafka_lag_exporter_config_") ||
          line.starts_with("kafka_lag_exporter_shards_owned ") ||
          line.starts_with("kafka_lag_exporter_compaction_detected_total")) {
        continue;
      }
      if (line.starts_with("kafka_lag_exporter_data_loss_partitions_total")) {
        data_loss_sum += std::stoll(line.substr(line.rfind(' ') + 1));
        continue;
      }
      merged.insert(line);
    }
  }
  std::multiset<std::string> expected;
  int64_t data_loss_single = -1;
  for (const auto& line : single) {
    if (line.starts_with("kafka_lag_exporter_up ") || line.starts_with("kafka_lag_exporter_config_") ||
        line.starts_with("kafka_lag_exporter_compaction_detected_total")) {
      continue;
    }
    if (line.starts_with("kafka_lag_exporter_data_loss_partitions_total")) {
      data_loss_single = std::stoll(line.substr(line.rfind(' ') + 1));
      continue;
    }
    expected.insert(line);
  }
  EXPECT_EQ(merged, expected);
  EXPECT_EQ(data_loss_sum, data_loss_single);
  EXPECT_EQ(data_loss_single, 14);  // groups 0, 3, ..., 39 on partition 0
}

TEST(Scope, BeforeTheFirstAssignmentAShardedReplicaServesNoClusterSeries) {
  ExporterStats stats;
  stats.scope.shards = {false};
  const auto lines = series_lines(render_prometheus({many_groups()}, stats));
  for (const auto& line : lines) EXPECT_EQ(line.find("cluster_name"), std::string::npos) << line;
  EXPECT_TRUE(lines.contains("kafka_lag_exporter_shards_owned 0"));
}

}  // namespace
}  // namespace klag::metrics
