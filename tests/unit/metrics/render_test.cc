#include "metrics/render.h"

#include <gtest/gtest.h>

#include <locale>
#include <fstream>
#include <sstream>

#include "lag/compute.h"
#include "lag/history.h"
#include "metrics/gzip.h"
#include "metrics/snapshot.h"

namespace klag::metrics {
namespace {

using collect::ClusterStatus;

ClusterStatus fixed_cluster() {
  lag::ClusterSample s;
  // orders/0 has an open transaction (LSO 90 < HW 100); orders/1's LSO is
  // unknown, so it gets no LSO or stable-lag series.
  s.partitions = {{"orders", 0, 0, 100, 90}, {"orders", 1, 5, 120}};
  s.groups = {lag::Group{.id = "live",
                         .state = "Stable",
                         .assignor = "range",
                         .described = true,
                         .members = {lag::Member{.client_id = "c1", .consumer_id = "m1", .host = "/10.0.0.1",
                                                 .assignment = {{"orders", 0}}}}},
              lag::Group{.id = "idle", .state = "Empty", .described = true}};
  s.committed = {{"live", "orders", 0, 40}, {"live", "orders", 1, 120}, {"idle", "orders", 1, 20}};
  // Time lag: live/orders/0 read at 40 (42.5 s old); idle/orders/1 not read
  // in time, so it has no lag_seconds; live/orders/1 is caught up (0).
  s.timestamps_enabled = true;
  s.timestamps = {{"orders", 0, 40, 1'699'999'957'750, 40}};
  ClusterStatus c;
  c.name = "prod";
  c.sampling_enabled = true;
  c.timestamp_reads_total = 9;
  c.timestamp_cache_hits_total = 4;
  c.timestamp_timeouts_total = 1;
  c.timestamp_denied_total = 2;
  c.timestamp_fetch_bytes_total = 12345;
  c.last_sampling.duration = std::chrono::milliseconds(250);
  c.labels = {{"env", "production"}};
  c.first_cycle_done = true;
  c.up = true;
  c.cycles = 3;
  c.failed_cycles = 1;
  c.partial_errors_total = {.describe_groups = 1, .committed_offsets = 7, .watermarks = 2};
  c.last_success_unix_seconds = 1700000000.25;
  c.last_cycle_seconds = 0.5;
  c.timings.committed_offsets = std::chrono::milliseconds(12);
  c.timings.metadata = std::chrono::milliseconds(3);
  c.timings.watermarks = std::chrono::milliseconds(7);
  // One earlier observation 10 s before, for status, rates and catch-up
  // times over a window of two: live/orders/0 did not move (stall: the
  // group has a member), live/orders/1 caught up (ok), idle/orders/1 did not
  // move (stop: no members).
  lag::History history({.window = 2, .min_lag = 1});
  lag::ClusterSample earlier = s;
  earlier.partitions = {{"orders", 0, 0, 80, 70}, {"orders", 1, 5, 110}};
  earlier.committed = {{"live", "orders", 0, 40}, {"live", "orders", 1, 100}, {"idle", "orders", 1, 20}};
  history.observe(lag::compute(earlier, 1'699'999'990'250), 1'699'999'990'250);
  c.lag = history.observe(lag::compute(s, 1'700'000'000'250), 1'700'000'000'250);
  return c;
}

ClusterStatus down_cluster() {
  ClusterStatus c;
  c.name = "dr";
  c.first_cycle_done = true;
  c.cycles = 2;
  c.failed_cycles = 2;
  c.last_cycle_seconds = 30;
  return c;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Render, MatchesGoldenFile) {
  const std::string got = render_prometheus({fixed_cluster(), down_cluster()});
  const std::string path = std::string(KLAG_TEST_DATA_DIR) + "/metrics/golden.prom";
  if (std::getenv("KLAG_UPDATE_GOLDEN")) {
    std::ofstream(path) << got;
  }
  EXPECT_EQ(got, read_file(path)) << "regenerate with KLAG_UPDATE_GOLDEN=1 after checking the diff";
}

TEST(Render, DataLossFamilies) {
  lag::ClusterSample s;
  s.partitions = {{"t", 0, 50, 80, 80}};
  s.committed = {{"behind", "t", 0, 30}};
  ClusterStatus c;
  c.name = "x";
  c.lag = std::make_shared<const lag::ClusterLag>(lag::compute(s));
  const std::string got = render_prometheus({c});
  const std::string labels = "{cluster_name=\"x\",group=\"behind\",topic=\"t\",partition=\"0\",member_host=\"\",consumer_id=\"\",client_id=\"\"}";
  EXPECT_NE(got.find("kafka_consumergroup_group_messages_lost" + labels + " 20\n"), std::string::npos) << got;
  EXPECT_NE(got.find("kafka_consumergroup_group_retention_margin" + labels + " -20\n"), std::string::npos);
  EXPECT_NE(got.find("kafka_consumergroup_group_lag_retention_ratio" + labels + " 166.66666666666669\n"), std::string::npos);
  EXPECT_NE(got.find("kafka_consumergroup_group_stable_lag" + labels + " 50\n"), std::string::npos);
  EXPECT_NE(got.find("kafka_lag_exporter_data_loss_partitions_total{cluster_name=\"x\"} 1\n"), std::string::npos);
  EXPECT_NE(got.find("kafka_partition_last_stable_offset{cluster_name=\"x\",topic=\"t\",partition=\"0\"} 80\n"), std::string::npos);
}

TEST(Render, TopicGranularityDropsPartitionLevelGroupFamilies) {
  ClusterStatus c = fixed_cluster();
  c.granularity = config::Granularity::topic;
  const std::string got = render_prometheus({c});
  EXPECT_EQ(got.find("kafka_consumergroup_group_lag{"), std::string::npos);
  EXPECT_EQ(got.find("kafka_consumergroup_group_offset{"), std::string::npos);
  EXPECT_NE(got.find("kafka_consumergroup_group_topic_sum_lag{cluster_name=\"prod\",group=\"live\",topic=\"orders\",env=\"production\"} 60\n"),
            std::string::npos);
  EXPECT_NE(got.find("kafka_partition_latest_offset{cluster_name=\"prod\",topic=\"orders\",partition=\"1\",env=\"production\"} 120\n"),
            std::string::npos);
  // HELP/TYPE stay, so the family is known even when empty.
  EXPECT_NE(got.find("# TYPE kafka_consumergroup_group_lag gauge\n"), std::string::npos);
}

TEST(Render, MemberLabelsCanBeDropped) {
  ClusterStatus c = fixed_cluster();
  c.member_labels = false;
  const std::string got = render_prometheus({c});
  EXPECT_EQ(got.find("member_host"), std::string::npos);
  EXPECT_NE(got.find("kafka_consumergroup_group_lag{cluster_name=\"prod\",group=\"live\",topic=\"orders\",partition=\"0\",env=\"production\"} 60\n"),
            std::string::npos);
}

TEST(Render, EscapesLabelValues) {
  std::string out;
  append_escaped_label_value(out, "a\\b\"c\nd");
  EXPECT_EQ(out, "a\\\\b\\\"c\\nd");
  // Escapes at either end, back to back, and values with nothing to escape.
  for (auto [in, want] : std::vector<std::pair<std::string_view, std::string_view>>{
           {"", ""},
           {"plain-topic.name_1", "plain-topic.name_1"},
           {"\"", "\\\""},
           {"\n\\x", "\\n\\\\x"},
           {"x\"\"", "x\\\"\\\""},
           {"\\\\", "\\\\\\\\"}}) {
    std::string got = "prefix:";
    append_escaped_label_value(got, in);
    EXPECT_EQ(got, "prefix:" + std::string(want)) << in;
  }
  ClusterStatus c = fixed_cluster();
  c.name = "we\"ird\\name\n";
  const std::string got = render_prometheus({c});
  EXPECT_NE(got.find("kafka_lag_exporter_up{cluster_name=\"we\\\"ird\\\\name\\n\",env=\"production\"} 1\n"),
            std::string::npos);
}

// A comma-decimal global locale must not leak into the exposition.
struct CommaDecimal : std::numpunct<char> {
  char do_decimal_point() const override { return ','; }
  char do_thousands_sep() const override { return '.'; }
  std::string do_grouping() const override { return "\3"; }
};

TEST(Render, NumbersIgnoreTheLocale) {
  const std::locale saved = std::locale::global(std::locale(std::locale::classic(), new CommaDecimal));
  std::ostringstream probe;
  probe << 1234.5;
  std::string out;
  append_double(out, 1234.5);
  out += ' ';
  append_int(out, 1234567);
  const std::string rendered = render_prometheus({fixed_cluster()});
  std::locale::global(saved);
  ASSERT_EQ(probe.str(), "1.234,5") << "the test locale did not take effect";
  EXPECT_EQ(out, "1234.5 1234567");
  EXPECT_NE(rendered.find("kafka_lag_exporter_last_update_timestamp_seconds{cluster_name=\"prod\",env=\"production\"} 1700000000.25\n"),
            std::string::npos);
}

TEST(Render, SpecialDoubles) {
  std::string out;
  append_double(out, std::numeric_limits<double>::infinity());
  out += ' ';
  append_double(out, -std::numeric_limits<double>::infinity());
  out += ' ';
  append_double(out, std::numeric_limits<double>::quiet_NaN());
  out += ' ';
  append_double(out, 0.001);
  out += ' ';
  append_int(out, -42);
  EXPECT_EQ(out, "+Inf -Inf NaN 0.001 -42");
}

TEST(Render, StaleDataIsServedAndFlagged) {
  ClusterStatus c = fixed_cluster();
  c.up = false;
  c.stale = true;
  const std::string got = render_prometheus({c});
  EXPECT_NE(got.find("kafka_lag_exporter_up{cluster_name=\"prod\",env=\"production\"} 0\n"), std::string::npos);
  EXPECT_NE(got.find("kafka_lag_exporter_stale{cluster_name=\"prod\",env=\"production\"} 1\n"), std::string::npos);
  EXPECT_NE(got.find("kafka_consumergroup_group_sum_lag{cluster_name=\"prod\",group=\"live\",env=\"production\"} 60\n"),
            std::string::npos);
}

TEST(Gzip, RoundTripsThroughZlib) {
  const std::string text = render_prometheus({fixed_cluster()});
  const std::string gz = gzip_compress(text);
  ASSERT_GT(gz.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_LT(gz.size(), text.size());
  EXPECT_EQ(gzip_decompress(gz), text);
  EXPECT_THROW(gzip_decompress(text), std::runtime_error);
  EXPECT_THROW(gzip_decompress(gz.substr(0, gz.size() / 2)), std::runtime_error);
  EXPECT_EQ(gzip_decompress(gzip_compress("")), "");
}

TEST(Gzip, StreamedRenderingEqualsTheText) {
  // Enough series to cross the 64 KB hand-over many times.
  lag::ClusterSample s;
  for (int p = 0; p < 300; ++p) s.partitions.push_back({"topic", p, 0, 100, 100});
  for (int g = 0; g < 20; ++g) {
    for (int p = 0; p < 300; ++p) s.committed.push_back({"group-" + std::to_string(g), "topic", p, p % 100});
  }
  ClusterStatus c = fixed_cluster();
  c.lag = std::make_shared<const lag::ClusterLag>(lag::compute(s, 0));
  ExporterStats stats;
  stats.reload_successful = false;
  const std::string text = render_prometheus({c}, stats);
  ASSERT_GT(text.size(), 1'000'000u);
  for (int level : {1, 6}) {
    const GzipExposition gz = render_prometheus_gzip({c}, stats, level);
    EXPECT_EQ(gzip_decompress(gz.gzip), text);
    EXPECT_EQ(gz.text_bytes, text.size());
  }
  // And the snapshot serves the same bytes either way.
  SnapshotStore store({c});
  store.update_exporter_stats([](ExporterStats& x) { x.reload_successful = false; });
  EXPECT_EQ(*store.current()->metrics_text(), text);
  EXPECT_EQ(store.current()->metrics_text_size(), text.size());
  EXPECT_EQ(gzip_decompress(*store.current()->metrics_gzip()), text);
}

TEST(Gzip, ReaderInflatesPieceByPiece) {
  std::string text;
  for (int i = 0; i < 40'000; ++i) text += "series_" + std::to_string(i * 7919) + " " + std::to_string(i) + "\n";
  ASSERT_GT(text.size(), 10 * GzipReader::kPieceBytes);
  auto gz = std::make_shared<const std::string>(gzip_compress(text, 1));
  GzipReader reader(gz);
  std::string joined;
  size_t pieces = 0;
  for (std::string_view piece = reader.next(); !piece.empty(); piece = reader.next()) {
    EXPECT_LE(piece.size(), GzipReader::kPieceBytes);
    joined += piece;
    ++pieces;
  }
  EXPECT_EQ(joined, text);
  EXPECT_GE(pieces, text.size() / GzipReader::kPieceBytes);
  EXPECT_TRUE(reader.next().empty()) << "stays at the end";

  GzipReader empty(std::make_shared<const std::string>(gzip_compress("")));
  EXPECT_TRUE(empty.next().empty());
  // A truncated stream throws once its input runs out, after what it could inflate.
  GzipReader truncated(std::make_shared<const std::string>(gz->substr(0, gz->size() / 2)));
  size_t got = 0;
  EXPECT_THROW(
      for (std::string_view piece = truncated.next(); !piece.empty(); piece = truncated.next()) got += piece.size(),
      std::runtime_error);
  EXPECT_GT(got, 0u);
  EXPECT_LT(got, text.size());
  GzipReader garbage(std::make_shared<const std::string>(text));
  EXPECT_THROW(garbage.next(), std::runtime_error);
}

TEST(SnapshotStore, ReadyOnlyAfterEveryClusterFinishedItsFirstCycle) {
  ClusterStatus a;
  a.name = "a";
  ClusterStatus b;
  b.name = "b";
  SnapshotStore store({a, b});
  EXPECT_FALSE(store.current()->ready());
  EXPECT_EQ(store.current()->not_ready_reason(), "first cycle not finished for: a, b");
  a.first_cycle_done = true;
  a.up = true;
  a.last_success_unix_seconds = 1700000000;
  store.publish(a);
  EXPECT_FALSE(store.current()->ready());
  EXPECT_EQ(store.current()->not_ready_reason(), "first cycle not finished for: b");
  b.first_cycle_done = true;  // a failed first cycle still counts, once another cluster answered
  b.last_error = "list_groups: timed out";
  store.publish(b);
  EXPECT_TRUE(store.current()->ready());
  EXPECT_EQ(store.current()->not_ready_reason(), "");
}

TEST(SnapshotStore, NotReadyWhileNoClusterHasEverAnswered) {
  ClusterStatus a;
  a.name = "a";
  ClusterStatus b;
  b.name = "b";
  SnapshotStore store({a, b});
  // Both first cycles failed: every loop ran, but there is no data to serve.
  a.first_cycle_done = b.first_cycle_done = true;
  a.cycles = b.cycles = a.failed_cycles = b.failed_cycles = 1;
  a.last_error = "connect: broker down";
  b.last_error = "list_groups: timed out";
  store.publish(a);
  store.publish(b);
  EXPECT_FALSE(store.current()->ready());
  EXPECT_EQ(store.current()->not_ready_reason(),
            "no cluster has answered yet (a: connect: broker down; b: list_groups: timed out)");
  // More failed cycles change nothing.
  a.cycles = a.failed_cycles = 5;
  store.publish(a);
  EXPECT_FALSE(store.current()->ready());
  // One cycle of one cluster succeeds: ready.
  b.cycles = 2;
  b.up = true;
  b.last_error.clear();
  b.last_success_unix_seconds = 1700000000.5;
  store.publish(b);
  EXPECT_TRUE(store.current()->ready());
  // It goes down again: still ready (its data is served stale, `up` says 0).
  b.up = false;
  b.cycles = b.failed_cycles = 3;
  b.last_error = "metadata: timed out";
  store.publish(b);
  EXPECT_TRUE(store.current()->ready());
  // A new leadership term forgets the old term's answers, not its counters.
  store.forget_term();
  EXPECT_FALSE(store.current()->ready());
  EXPECT_EQ(store.current()->not_ready_reason(), "first cycle not finished for: a, b");
  EXPECT_EQ(store.current()->clusters()[1].cycles, 3u);
  // The new term's first cycles fail. The loops forgot the old term too
  // (ClusterLoop::new_term), so b's success in it does not make it ready.
  for (ClusterStatus* c : {&a, &b}) {
    collect::forget_term(*c);
    c->first_cycle_done = true;
    ++c->cycles;
    ++c->failed_cycles;
    c->last_error = "connect: broker down";
    store.publish(*c);
  }
  EXPECT_FALSE(store.current()->ready());
  EXPECT_EQ(store.current()->not_ready_reason(),
            "no cluster has answered yet (a: connect: broker down; b: connect: broker down)");
  // Until one of them succeeds.
  b.up = true;
  b.last_error.clear();
  b.last_success_unix_seconds = 1700000100.5;
  store.publish(b);
  EXPECT_TRUE(store.current()->ready());
}

TEST(SnapshotStore, NotReadyReasonWithoutErrorsOrClusters) {
  ClusterStatus a;
  a.name = "a";
  a.first_cycle_done = true;  // failed, with no error text (a cancelled step)
  EXPECT_EQ(not_ready_reason({a}), "no cluster has answered yet");
  a.up = true;  // up implies a success even before the timestamp is set
  EXPECT_EQ(not_ready_reason({a}), "");
  EXPECT_EQ(not_ready_reason({}), "no cluster configured");
}

TEST(SnapshotStore, PublishReplacesTheClusterAndKeepsOlderSnapshotsIntact) {
  ClusterStatus c = fixed_cluster();
  SnapshotStore store({c});
  auto before = store.current();
  c.up = false;
  store.publish(c);
  auto after = store.current();
  EXPECT_NE(before->metrics_text()->find("kafka_lag_exporter_up{cluster_name=\"prod\",env=\"production\"} 1"),
            std::string::npos);
  EXPECT_NE(after->metrics_text()->find("kafka_lag_exporter_up{cluster_name=\"prod\",env=\"production\"} 0"),
            std::string::npos);
  EXPECT_EQ(after->metrics_gzip(), after->metrics_gzip()) << "gzip is computed once per snapshot";
}

}  // namespace
}  // namespace klag::metrics

namespace klag::metrics {
namespace {

TEST(SnapshotStore, StalledClusterIsReportedAfterTheLimit) {
  ClusterStatus a;
  a.name = "a";
  ClusterStatus b;
  b.name = "b";
  using std::chrono::seconds;
  const auto t0 = std::chrono::steady_clock::now();
  const auto limit = seconds(10);
  SnapshotStore store({a, b}, t0);
  EXPECT_EQ(store.stalled_cluster(t0 + seconds(5), limit), "");
  store.publish(a, 0, t0 + seconds(8));
  // At t0+12s "b" has not published since t0: it is the stalled one.
  EXPECT_EQ(store.stalled_cluster(t0 + seconds(12), limit), "b");
  store.publish(b, 0, t0 + seconds(12));
  EXPECT_EQ(store.stalled_cluster(t0 + seconds(15), limit), "");
  EXPECT_EQ(store.stalled_cluster(t0 + seconds(19), limit), "a");
  // A standby's loop stamps its heartbeat without data.
  store.heartbeat("a", 0, t0 + seconds(19));
  EXPECT_EQ(store.stalled_cluster(t0 + seconds(25), limit), "b");
  store.heartbeat("b", 7, t0 + seconds(25));  // a retired loop's epoch: ignored
  EXPECT_EQ(store.stalled_cluster(t0 + seconds(25), limit), "b");
}

}  // namespace
}  // namespace klag::metrics

namespace klag::metrics {
namespace {

ClusterStatus named(const std::string& name, bool up) {
  ClusterStatus c;
  c.name = name;
  c.first_cycle_done = true;
  c.up = up;
  return c;
}

bool serves(const SnapshotStore& store, const std::string& series) {
  return store.current()->metrics_text()->find(series) != std::string::npos;
}

TEST(SnapshotStore, ReconfigureKeepsUnchangedClustersAndIgnoresRetiredLoops) {
  SnapshotStore store({named("a", false), named("b", false)});
  store.publish(named("a", true));
  store.publish(named("b", true));
  // b changed, a kept, c added, nothing else.
  const auto epochs = store.reconfigure({named("a", false), ClusterStatus{.name = "b"}, ClusterStatus{.name = "c"}},
                                        {"a"});
  ASSERT_EQ(epochs.size(), 3u);
  EXPECT_EQ(epochs[0], 0u);  // a keeps its epoch and its data
  EXPECT_NE(epochs[1], 0u);
  EXPECT_NE(epochs[2], epochs[1]);
  EXPECT_TRUE(serves(store, "kafka_lag_exporter_up{cluster_name=\"a\"} 1"));
  EXPECT_TRUE(serves(store, "kafka_lag_exporter_up{cluster_name=\"b\"} 0"));
  EXPECT_FALSE(store.current()->ready());  // b and c start over
  // b's old loop (epoch 0) finishing a cycle late is ignored...
  store.publish(named("b", true), 0);
  EXPECT_TRUE(serves(store, "kafka_lag_exporter_up{cluster_name=\"b\"} 0"));
  // ...its new loop is not.
  store.publish(named("b", true), epochs[1]);
  EXPECT_TRUE(serves(store, "kafka_lag_exporter_up{cluster_name=\"b\"} 1"));
  // A removed cluster's late publish does not bring it back.
  store.reconfigure({named("a", true)}, {"a"});
  store.publish(named("c", true), epochs[2]);
  EXPECT_FALSE(serves(store, "cluster_name=\"c\""));
  EXPECT_FALSE(serves(store, "cluster_name=\"b\""));
}

TEST(SnapshotStore, LeaderCheckChoosesTheStandbySnapshotPerRequest) {
  SnapshotStore store({named("a", true)});
  store.update_exporter_stats([](ExporterStats& s) { s.scope.leader_provider = "kafka"; });
  bool leader = false;
  store.set_leader_check([&leader] { return leader; });
  auto standby = store.current();
  EXPECT_FALSE(standby->ready());
  EXPECT_NE(standby->not_ready_reason().find("standby"), std::string::npos);
  EXPECT_TRUE(standby->stats().scope.standby);
  EXPECT_TRUE(serves(store, "kafka_lag_exporter_leader{provider=\"kafka\"} 0"));
  EXPECT_FALSE(serves(store, "cluster_name"));
  leader = true;
  EXPECT_TRUE(store.current()->ready());
  EXPECT_TRUE(serves(store, "kafka_lag_exporter_leader{provider=\"kafka\"} 1"));
  EXPECT_TRUE(serves(store, "kafka_lag_exporter_up{cluster_name=\"a\"} 1"));
  ClusterStatus a = named("a", true);
  a.cycles = 7;
  store.publish(a);
  // A new term forgets the old term's data, but counters never go back.
  store.forget_term();
  EXPECT_FALSE(store.current()->ready());
  EXPECT_TRUE(serves(store, "kafka_lag_exporter_up{cluster_name=\"a\"} 0"));
  EXPECT_TRUE(serves(store, "kafka_lag_exporter_cycles_total{cluster_name=\"a\"} 7"));
}

TEST(SnapshotStore, ReloadStatusIsServed) {
  SnapshotStore store({named("a", true)});
  EXPECT_TRUE(serves(store, "kafka_lag_exporter_config_last_reload_successful 1"));
  store.update_exporter_stats([](ExporterStats& s) { s.reload_successful = false; });
  EXPECT_TRUE(serves(store, "kafka_lag_exporter_config_last_reload_successful 0"));
}

}  // namespace
}  // namespace klag::metrics
