#include "lag/compute.h"

#include <gtest/gtest.h>

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

TEST(Compute, CommitWithoutWatermarkYieldsNoSeries) {
  ClusterSample s = two_groups();
  s.committed.push_back({"live", "deleted-topic", 0, 5});
  s.committed.push_back({"live", "orders", 7, 5});  // partition unknown
  ClusterLag out = compute(s);
  EXPECT_EQ(out.partition_lags.size(), 4u);
  EXPECT_EQ(out.groups[1].sum_lag, 60);
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

TEST(Compute, EmptySampleGivesEmptyResult) {
  ClusterLag out = compute(ClusterSample{});
  EXPECT_TRUE(out.partitions.empty());
  EXPECT_TRUE(out.partition_lags.empty());
  EXPECT_TRUE(out.groups.empty());
}

}  // namespace
}  // namespace klag::lag
