#include "lag/compute.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace klag::lag {
namespace {

ClusterSample two_groups() {
  ClusterSample s;
  s.partitions = {{"orders", 1, 5, 120}, {"orders", 0, 0, 100}, {"payments", 0, 10, 10}};
  s.groups = {
      Group{.id = "live",
            .state = "Stable",
            .assignor = "range",
            .described = true,
            .members = {Member{.client_id = "c1", .consumer_id = "m1", .host = "/10.0.0.1",
                               .assignment = {{"orders", 0}}}}},
      Group{.id = "idle", .state = "Empty", .described = true},
  };
  s.committed = {
      {"live", "orders", 0, 40},
      {"live", "orders", 1, 120},
      {"idle", "orders", 0, 100},
      {"idle", "payments", 0, 3},
  };
  return s;
}

TEST(OffsetLag, IsHighWatermarkMinusCommitted) {
  EXPECT_EQ(offset_lag(100, 40), 60);
  EXPECT_EQ(offset_lag(100, 100), 0);
  EXPECT_EQ(offset_lag(0, 0), 0);
}

TEST(OffsetLag, CommitPastHighWatermarkIsZeroNotNegative) { EXPECT_EQ(offset_lag(100, 130), 0); }

TEST(Compute, JoinsCommitsWithWatermarksSorted) {
  ClusterLag out = compute(two_groups());
  ASSERT_EQ(out.partition_lags.size(), 4u);
  // Sorted by (group, topic, partition): idle before live.
  EXPECT_EQ(out.partition_lags[0].group, "idle");
  EXPECT_EQ(out.partition_lags[0].topic, "orders");
  EXPECT_EQ(out.partition_lags[0].lag, 0);
  EXPECT_EQ(out.partition_lags[1].topic, "payments");
  EXPECT_EQ(out.partition_lags[1].committed, 3);
  EXPECT_EQ(out.partition_lags[1].lag, 7);
  EXPECT_EQ(out.partition_lags[1].earliest, 10);
  EXPECT_EQ(out.partition_lags[2].group, "live");
  EXPECT_EQ(out.partition_lags[2].partition, 0);
  EXPECT_EQ(out.partition_lags[2].lag, 60);
  EXPECT_EQ(out.partition_lags[3].partition, 1);
  EXPECT_EQ(out.partition_lags[3].lag, 0);
  // Partitions sorted by (topic, partition).
  ASSERT_EQ(out.partitions.size(), 3u);
  EXPECT_EQ(out.partitions[0].partition, 0);
  EXPECT_EQ(out.partitions[1].partition, 1);
  EXPECT_EQ(out.partitions[2].topic, "payments");
}

TEST(Compute, MemberLabelsComeFromTheAssignment) {
  ClusterLag out = compute(two_groups());
  const auto& owned = out.partition_lags[2];  // live/orders/0
  EXPECT_EQ(owned.member_host, "/10.0.0.1");
  EXPECT_EQ(owned.consumer_id, "m1");
  EXPECT_EQ(owned.client_id, "c1");
  const auto& unowned = out.partition_lags[3];  // live/orders/1: not assigned
  EXPECT_EQ(unowned.member_host, "");
  EXPECT_EQ(unowned.consumer_id, "");
  EXPECT_EQ(unowned.client_id, "");
}

TEST(Compute, GroupAndTopicAggregates) {
  ClusterLag out = compute(two_groups());
  ASSERT_EQ(out.groups.size(), 2u);
  const GroupLag& idle = out.groups[0];
  EXPECT_EQ(idle.group, "idle");
  EXPECT_EQ(idle.state, "Empty");
  EXPECT_EQ(idle.members, 0);
  EXPECT_TRUE(idle.has_lag);
  EXPECT_EQ(idle.max_lag, 7);
  EXPECT_EQ(idle.sum_lag, 7);
  const GroupLag& live = out.groups[1];
  EXPECT_EQ(live.members, 1);
  EXPECT_EQ(live.assignor, "range");
  EXPECT_EQ(live.max_lag, 60);
  EXPECT_EQ(live.sum_lag, 60);

  ASSERT_EQ(out.topic_lags.size(), 3u);
  EXPECT_EQ(out.topic_lags[0].group, "idle");
  EXPECT_EQ(out.topic_lags[0].topic, "orders");
  EXPECT_EQ(out.topic_lags[0].sum_lag, 0);
  EXPECT_EQ(out.topic_lags[1].topic, "payments");
  EXPECT_EQ(out.topic_lags[1].sum_lag, 7);
  EXPECT_EQ(out.topic_lags[2].group, "live");
  EXPECT_EQ(out.topic_lags[2].sum_lag, 60);
}

TEST(Compute, CommitWithoutWatermarkYieldsNoSeriesAndNoPartialTotals) {
  ClusterSample s = two_groups();
  s.committed.push_back({"live", "orders", 7, 5});  // its leader did not answer
  ClusterLag out = compute(s);
  EXPECT_EQ(out.partition_lags.size(), 4u);
  // "live" is missing a partition: no max/sum rather than a total too low.
  EXPECT_EQ(out.groups[1].group, "live");
  EXPECT_FALSE(out.groups[1].has_lag);
  // Its orders total is partial too; "idle" is unaffected.
  for (const auto& t : out.topic_lags) EXPECT_NE(t.group, "live");
  EXPECT_TRUE(out.groups[0].has_lag);
  EXPECT_EQ(out.groups[0].sum_lag, 7);
}

TEST(Compute, GroupWithoutCommitsHasNoLagAggregates) {
  ClusterSample s;
  s.partitions = {{"t", 0, 0, 10}};
  s.groups = {Group{.id = "new", .state = "Stable", .described = true, .members = {Member{}}}};
  ClusterLag out = compute(s);
  ASSERT_EQ(out.groups.size(), 1u);
  EXPECT_FALSE(out.groups[0].has_lag);
  EXPECT_EQ(out.groups[0].members, 1);
  EXPECT_TRUE(out.partition_lags.empty());
  EXPECT_TRUE(out.topic_lags.empty());
}

TEST(Compute, CommitsOfUnlistedGroupsStillCount) {
  ClusterSample s;
  s.partitions = {{"t", 0, 0, 10}};
  s.committed = {{"ghost", "t", 0, 4}};
  ClusterLag out = compute(s);
  ASSERT_EQ(out.groups.size(), 1u);
  EXPECT_EQ(out.groups[0].group, "ghost");
  EXPECT_EQ(out.groups[0].state, "Unknown");
  EXPECT_FALSE(out.groups[0].described);
  EXPECT_EQ(out.groups[0].sum_lag, 6);
}

TEST(RetentionRatio, LagAsAPercentageOfTheRetainedLog) {
  EXPECT_DOUBLE_EQ(lag_retention_ratio(2000, 1000, 1200), 80.0);  // the reference's example
  EXPECT_DOUBLE_EQ(lag_retention_ratio(2000, 1000, 2000), 0.0);
  EXPECT_DOUBLE_EQ(lag_retention_ratio(2000, 1000, 500), 150.0);  // data loss: above 100
  EXPECT_DOUBLE_EQ(lag_retention_ratio(70, 70, 10), 0.0);         // empty log: 0, not a division by zero
}

TEST(Compute, DataLossAndRetentionFields) {
  ClusterSample s;
  s.partitions = {{"t", 0, 50, 80, 80}, {"t", 1, 0, 10, 4}};
  s.committed = {{"g", "t", 0, 30}, {"g", "t", 1, 2}};
  ClusterLag out = compute(s);
  ASSERT_EQ(out.partition_lags.size(), 2u);
  const PartitionLag& lost = out.partition_lags[0];
  EXPECT_TRUE(lost.data_loss);
  EXPECT_EQ(lost.messages_lost, 20);
  EXPECT_EQ(lost.retention_margin, -20);
  EXPECT_EQ(lost.lag, 50);
  EXPECT_NEAR(lost.lag_retention_ratio, 166.667, 0.001);
  const PartitionLag& fine = out.partition_lags[1];
  EXPECT_FALSE(fine.data_loss);
  EXPECT_EQ(fine.messages_lost, 0);
  EXPECT_EQ(fine.retention_margin, 2);
  EXPECT_DOUBLE_EQ(fine.lag_retention_ratio, 80.0);
  EXPECT_EQ(out.data_loss_partitions, 1);
}

TEST(Compute, StableLagAgainstTheLastStableOffset) {
  ClusterSample s;
  s.partitions = {{"t", 0, 0, 100, 90}, {"t", 1, 0, 100}};  // LSO of t/1 unknown
  s.committed = {{"g", "t", 0, 40}, {"g", "t", 1, 40}, {"h", "t", 0, 95}};
  ClusterLag out = compute(s);
  EXPECT_EQ(out.partition_lags[0].stable, 90);
  EXPECT_EQ(out.partition_lags[0].stable_lag, 50);
  EXPECT_EQ(out.partition_lags[0].lag, 60);
  EXPECT_EQ(out.partition_lags[1].stable_lag, -1);
  EXPECT_EQ(out.partition_lags[2].stable_lag, 0);  // committed past the LSO: 0, not negative
}

ClusterSample timed() {
  ClusterSample s;
  s.timestamps_enabled = true;
  s.partitions = {{"t", 0, 0, 100}, {"t", 1, 50, 80}, {"c", 0, 0, 10}, {"t", 2, 0, 5}};
  s.committed = {{"g", "t", 0, 40},   // lag 60, sampled
                 {"h", "t", 0, 40},   // same offset: shares the sample
                 {"g", "t", 1, 30},   // below log start 50: read at 50
                 {"g", "c", 0, 3},    // compacted topic, record 3 gone: read 6
                 {"g", "t", 2, 5}};   // caught up: 0 without a sample
  s.timestamps = {{"t", 0, 40, 1'000'000, 40}, {"t", 1, 50, 1'030'000, 50}, {"c", 0, 3, 1'050'000, 6}};
  s.compacted_topics = {"c"};
  return s;
}

TEST(TimeLag, ReadOffsetIsTheLogStartOnDataLoss) {
  EXPECT_EQ(time_lag_read_offset(40, 0), 40);
  EXPECT_EQ(time_lag_read_offset(30, 50), 50);
  EXPECT_EQ(time_lag_read_offset(50, 50), 50);
}

TEST(TimeLag, NowMinusTheTimestampOfTheFirstUnconsumedRecord) {
  ClusterLag out = compute(timed(), 1'120'000);
  auto find = [&](const std::string& g, const std::string& t, int32_t p) {
    for (const auto& pl : out.partition_lags)
      if (pl.group == g && pl.topic == t && pl.partition == p) return pl;
    ADD_FAILURE() << g << "/" << t << "/" << p;
    return PartitionLag{};
  };
  EXPECT_TRUE(find("g", "t", 0).has_lag_seconds);
  EXPECT_DOUBLE_EQ(find("g", "t", 0).lag_seconds, 120.0);
  EXPECT_DOUBLE_EQ(find("h", "t", 0).lag_seconds, 120.0);
  // Data loss: the age of the record at the log start, a lower bound > 0.
  const PartitionLag lost = find("g", "t", 1);
  EXPECT_TRUE(lost.data_loss);
  EXPECT_DOUBLE_EQ(lost.lag_seconds, 90.0);
  EXPECT_FALSE(lost.compaction_detected);
  // Compaction: the record read came after the one asked for.
  const PartitionLag compacted = find("g", "c", 0);
  EXPECT_TRUE(compacted.compaction_detected);
  EXPECT_DOUBLE_EQ(compacted.lag_seconds, 70.0);
  // Caught up: 0, no sample needed.
  EXPECT_TRUE(find("g", "t", 2).has_lag_seconds);
  EXPECT_DOUBLE_EQ(find("g", "t", 2).lag_seconds, 0.0);
  EXPECT_EQ(out.compaction_partitions, 1);
  EXPECT_TRUE(out.groups[0].has_lag_seconds);
  EXPECT_DOUBLE_EQ(out.groups[0].max_lag_seconds, 120.0);
}

TEST(TimeLag, SkippedRecordOnANonCompactedTopicIsNotCompaction) {
  ClusterSample s = timed();
  s.compacted_topics.clear();  // e.g. a transaction marker was skipped
  ClusterLag out = compute(s, 1'120'000);
  EXPECT_EQ(out.compaction_partitions, 0);
}

TEST(TimeLag, MissingSampleMeansNoValue) {
  ClusterSample s = timed();
  s.timestamps.erase(s.timestamps.begin());  // t/0@40 timed out
  ClusterLag out = compute(s, 1'120'000);
  int checked = 0;
  for (const auto& pl : out.partition_lags) {
    if (pl.topic == "t" && pl.partition == 0) {
      EXPECT_FALSE(pl.has_lag_seconds) << pl.group;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2);
}

TEST(TimeLag, GroupMaxNeedsEveryPartitionsTimeLag) {
  ClusterSample s = timed();
  s.timestamps.erase(s.timestamps.begin());  // t/0@40 timed out
  ClusterLag out = compute(s, 1'120'000);
  // g has t/0 without a value (and a caught-up t/2 at 0): no max shown.
  auto g = std::find_if(out.groups.begin(), out.groups.end(), [](const auto& x) { return x.group == "g"; });
  ASSERT_NE(g, out.groups.end());
  EXPECT_FALSE(g->has_lag_seconds);
  auto h = std::find_if(out.groups.begin(), out.groups.end(), [](const auto& x) { return x.group == "h"; });
  ASSERT_NE(h, out.groups.end());
  EXPECT_FALSE(h->has_lag_seconds);  // h's only partition is t/0 too
}

TEST(TimeLag, FutureTimestampsClampToZero) {
  ClusterSample s = timed();
  ClusterLag out = compute(s, 900'000);  // every record is "from the future"
  for (const auto& pl : out.partition_lags) EXPECT_GE(pl.lag_seconds, 0.0);
}

TEST(TimeLag, DisabledSamplingGivesNoTimeLagAtAll) {
  ClusterSample s = timed();
  s.timestamps_enabled = false;
  ClusterLag out = compute(s, 1'120'000);
  for (const auto& pl : out.partition_lags) EXPECT_FALSE(pl.has_lag_seconds);
  for (const auto& g : out.groups) EXPECT_FALSE(g.has_lag_seconds);
}

TEST(Compute, EmptySampleGivesEmptyResult) {
  ClusterLag out = compute(ClusterSample{});
  EXPECT_TRUE(out.partitions.empty());
  EXPECT_TRUE(out.partition_lags.empty());
  EXPECT_TRUE(out.groups.empty());
}

}  // namespace
}  // namespace klag::lag
