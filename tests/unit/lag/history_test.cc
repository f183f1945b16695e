#include "lag/history.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <string>
#include <vector>

namespace klag::lag {
namespace {

struct Commit {
  std::string group;
  std::string topic;
  int32_t partition;
  int64_t committed;
};

// One cycle's ClusterLag as compute() would give it: partitions with their
// high watermarks, commits joined to them, sorted, with topic and group
// aggregates.
ClusterLag cycle(const std::vector<std::tuple<std::string, int32_t, int64_t>>& marks, std::vector<Commit> commits,
                 const std::vector<std::pair<std::string, int64_t>>& members = {}) {
  ClusterLag out;
  for (const auto& [t, p, latest] : marks) out.partitions.push_back({.topic = t, .partition = p, .latest = latest});
  std::sort(out.partitions.begin(), out.partitions.end(),
            [](const auto& a, const auto& b) { return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition); });
  std::sort(commits.begin(), commits.end(), [](const auto& a, const auto& b) {
    return std::tie(a.group, a.topic, a.partition) < std::tie(b.group, b.topic, b.partition);
  });
  for (const auto& c : commits) {
    int64_t latest = 0;
    for (const auto& p : out.partitions) {
      if (p.topic == c.topic && p.partition == c.partition) latest = p.latest;
    }
    out.partition_lags.push_back({.group = c.group, .topic = c.topic, .partition = c.partition,
                                  .committed = c.committed, .latest = latest,
                                  .lag = latest > c.committed ? latest - c.committed : 0});
    auto& pl = out.partition_lags.back();
    if (out.topic_lags.empty() || out.topic_lags.back().group != c.group || out.topic_lags.back().topic != c.topic) {
      out.topic_lags.push_back({.group = c.group, .topic = c.topic});
    }
    out.topic_lags.back().sum_lag += pl.lag;
    if (out.groups.empty() || out.groups.back().group != c.group) {
      int64_t n = 0;
      for (const auto& [g, m] : members) n = g == c.group ? m : n;
      out.groups.push_back({.group = c.group, .described = true, .members = n, .has_lag = true});
    }
  }
  return out;
}

constexpr int64_t kStart = 1'700'000'000'000;
constexpr int64_t kStep = 10'000;  // 10 s between cycles

const PartitionLag& find(const ClusterLag& lag, std::string_view group, int32_t partition, std::string_view topic = "t") {
  for (const auto& p : lag.partition_lags) {
    if (p.group == group && p.topic == topic && p.partition == partition) return p;
  }
  ADD_FAILURE() << "no partition " << group << " " << topic << " " << partition;
  static const PartitionLag none;
  return none;
}

TEST(History, UnknownUntilTheWindowIsFullThenEvaluated) {
  History h({.window = 3, .min_lag = 1});
  // g keeps pace with lag 10; s is stuck at 0 with members; d is stuck
  // without members.
  std::shared_ptr<const ClusterLag> out;
  for (int i = 0; i < 3; ++i) {
    const int64_t latest = 100 + 50 * i;
    out = h.observe(cycle({{"t", 0, latest}, {"u", 0, latest}},
                          {{"g", "t", 0, latest - 10}, {"s", "t", 0, 0}, {"d", "u", 0, 5}}, {{"s", 1}}),
                    kStart + i * kStep);
    ASSERT_TRUE(out->has_history);
    if (i < 2) {
      for (const auto& p : out->partition_lags) EXPECT_EQ(p.status, Status::unknown) << p.group;
      for (const auto& g : out->groups) EXPECT_EQ(g.status, Status::unknown) << g.group;
    }
    // Rates from the second observation on.
    EXPECT_EQ(find(*out, "g", 0).has_rates, i >= 1);
  }
  EXPECT_EQ(find(*out, "g", 0).status, Status::ok);
  EXPECT_EQ(find(*out, "s", 0).status, Status::stall);
  EXPECT_EQ(find(*out, "d", 0, "u").status, Status::stop);
  EXPECT_EQ(out->groups[0].group, "d");
  EXPECT_EQ(out->groups[0].status, Status::stop);
  EXPECT_TRUE(out->groups[0].has_status);
  EXPECT_EQ(h.group_partitions(), 3u);
  EXPECT_EQ(h.partitions(), 2u);
}

TEST(History, RatesAndCatchupOverTheWindow) {
  History h({.window = 3, .min_lag = 1});
  std::shared_ptr<const ClusterLag> out;
  // Producer 5/s on each partition; g consumes 15/s on p0 (gaining 10/s),
  // 2/s on p1 (losing 3/s).
  for (int i = 0; i < 4; ++i) {
    const int64_t latest = 1000 + 50 * i;
    out = h.observe(cycle({{"t", 0, latest}, {"t", 1, latest}}, {{"g", "t", 0, 150 * i}, {"g", "t", 1, 900 + 20 * i}}),
                    kStart + i * kStep);
  }
  // The window holds cycles 1..3: 20 s.
  const auto& p0 = find(*out, "g", 0);
  ASSERT_TRUE(p0.has_rates);
  EXPECT_DOUBLE_EQ(p0.produce_rate, 5.0);
  EXPECT_DOUBLE_EQ(p0.consume_rate, 15.0);
  EXPECT_DOUBLE_EQ(p0.catchup_seconds, (1150.0 - 450.0) / 10.0);
  EXPECT_EQ(p0.status, Status::ok);
  const auto& p1 = find(*out, "g", 1);
  EXPECT_DOUBLE_EQ(p1.consume_rate, 2.0);
  EXPECT_TRUE(std::isinf(p1.catchup_seconds));
  EXPECT_EQ(p1.status, Status::warn);
  // The group's status is its worst partition's; the topic's consume rate
  // is the sum, its catch-up time the longest.
  EXPECT_EQ(out->groups[0].status, Status::warn);
  ASSERT_EQ(out->topic_lags.size(), 1u);
  EXPECT_TRUE(out->topic_lags[0].has_rates);
  EXPECT_DOUBLE_EQ(out->topic_lags[0].consume_rate, 17.0);
  EXPECT_TRUE(std::isinf(out->topic_lags[0].catchup_seconds));
  ASSERT_TRUE(out->partitions[0].has_produce_rate);
  EXPECT_DOUBLE_EQ(out->partitions[0].produce_rate, 5.0);
}

TEST(History, ARewindShowsWhileItIsInTheWindowThenAgesOut) {
  History h({.window = 3, .min_lag = 1});
  const std::vector<int64_t> commits = {50, 60, 20, 30, 40, 50};
  std::vector<Status> seen;
  for (size_t i = 0; i < commits.size(); ++i) {
    auto out = h.observe(cycle({{"t", 0, 100}}, {{"g", "t", 0, commits[i]}}, {{"g", 1}}),
                         kStart + static_cast<int64_t>(i) * kStep);
    seen.push_back(out->partition_lags[0].status);
  }
  // Windows: [50 60 20] [60 20 30] rewind; [20 30 40] [30 40 50] committing, lag shrinking.
  EXPECT_EQ(seen, (std::vector<Status>{Status::unknown, Status::unknown, Status::rewind, Status::rewind, Status::ok,
                                       Status::ok}));
}

TEST(History, WhatDisappearsIsForgottenAndStartsOverWhenItReturns) {
  History h({.window = 2, .min_lag = 1});
  h.observe(cycle({{"t", 0, 10}, {"t", 1, 10}}, {{"g", "t", 0, 5}, {"g", "t", 1, 5}, {"h", "t", 0, 5}}), kStart);
  auto out = h.observe(cycle({{"t", 0, 10}, {"t", 1, 10}}, {{"g", "t", 0, 5}, {"g", "t", 1, 5}, {"h", "t", 0, 5}}),
                       kStart + kStep);
  EXPECT_EQ(find(*out, "h", 0).status, Status::stop);
  EXPECT_EQ(h.group_partitions(), 3u);
  // Group h and partition t-1's commit vanish for one cycle.
  out = h.observe(cycle({{"t", 0, 10}, {"t", 1, 10}}, {{"g", "t", 0, 5}}), kStart + 2 * kStep);
  EXPECT_EQ(h.group_partitions(), 1u);
  EXPECT_EQ(find(*out, "g", 0).status, Status::stop);
  out = h.observe(cycle({{"t", 0, 10}, {"t", 1, 10}}, {{"g", "t", 0, 5}, {"g", "t", 1, 5}, {"h", "t", 0, 5}}),
                  kStart + 3 * kStep);
  EXPECT_EQ(find(*out, "h", 0).status, Status::unknown);
  EXPECT_FALSE(find(*out, "h", 0).has_rates);
  EXPECT_EQ(find(*out, "g", 1).status, Status::unknown);
  // A topic with a partition that has no rates yet has no topic rate.
  EXPECT_FALSE(out->topic_lags[0].has_rates);
  // The group: stop on p0 outranks unknown on p1.
  EXPECT_EQ(out->groups[0].status, Status::stop);
}

TEST(History, AClockThatGoesBackStartsOver) {
  History h({.window = 2, .min_lag = 1});
  h.observe(cycle({{"t", 0, 10}}, {{"g", "t", 0, 5}}), kStart);
  auto out = h.observe(cycle({{"t", 0, 20}}, {{"g", "t", 0, 5}}), kStart - kStep);
  EXPECT_EQ(out->partition_lags[0].status, Status::unknown);
  EXPECT_FALSE(out->partition_lags[0].has_rates);
  EXPECT_FALSE(out->partitions[0].has_produce_rate);
  h.clear();
  EXPECT_EQ(h.group_partitions(), 0u);
}

TEST(History, CaughtUpGroupsHaveZeroCatchupAndOkStatus) {
  History h({.window = 2, .min_lag = 1});
  h.observe(cycle({{"t", 0, 10}}, {{"g", "t", 0, 10}}), kStart);
  auto out = h.observe(cycle({{"t", 0, 20}}, {{"g", "t", 0, 20}}), kStart + kStep);
  const auto& p = out->partition_lags[0];
  EXPECT_EQ(p.status, Status::ok);
  EXPECT_EQ(p.catchup_seconds, 0.0);
  EXPECT_DOUBLE_EQ(p.consume_rate, 1.0);
  EXPECT_EQ(out->topic_lags[0].catchup_seconds, 0.0);
}

TEST(History, StallNeedsAMemberThatOwnsThePartition) {
  History h({.window = 2, .min_lag = 1});
  auto assign = [](ClusterLag lag) {
    for (auto& p : lag.partition_lags) {
      if (p.partition == 0) p.consumer_id = "member-1";  // p1 is assigned to nobody
    }
    return lag;
  };
  auto two = [&] { return cycle({{"t", 0, 10}, {"t", 1, 10}}, {{"g", "t", 0, 5}, {"g", "t", 1, 5}}, {{"g", 1}}); };
  h.observe(assign(two()), kStart);
  auto out = h.observe(assign(two()), kStart + kStep);
  EXPECT_EQ(find(*out, "g", 0).status, Status::stall);
  EXPECT_EQ(find(*out, "g", 1).status, Status::stop);  // left behind by a live group
  EXPECT_EQ(out->groups[0].status, Status::stop);

  // Not described this cycle: each partition keeps what was last seen,
  // rather than every one turning into stop.
  auto undescribed = two();
  undescribed.groups[0].described = false;
  undescribed.groups[0].members = 0;
  out = h.observe(undescribed, kStart + 2 * kStep);
  EXPECT_EQ(find(*out, "g", 0).status, Status::stall);
  EXPECT_EQ(find(*out, "g", 1).status, Status::stop);
}

TEST(History, ACarriedCommitIsNotAnObservation) {
  History h({.window = 2, .min_lag = 1});
  h.observe(cycle({{"t", 0, 10}}, {{"g", "t", 0, 5}}), kStart);
  auto carried = cycle({{"t", 0, 20}}, {{"g", "t", 0, 5}});
  carried.partition_lags[0].carried = true;
  auto out = h.observe(carried, kStart + kStep);
  // Without the rule, this would be stop: 5 twice with lag growing.
  EXPECT_EQ(out->partition_lags[0].status, Status::unknown);
  EXPECT_FALSE(out->partition_lags[0].has_rates);
  EXPECT_TRUE(out->partitions[0].has_produce_rate);  // the watermark was read
  out = h.observe(cycle({{"t", 0, 30}}, {{"g", "t", 0, 25}}), kStart + 2 * kStep);
  EXPECT_EQ(out->partition_lags[0].status, Status::unknown);  // starts over
}

TEST(History, LagBelowMinLagCatchesUpInZeroSeconds) {
  History h({.window = 2, .min_lag = 50});
  // Lag 4 then 6 while the consumer is a little slower than the producer
  // over the window: caught up by min_lag, so 0, not +Inf.
  h.observe(cycle({{"t", 0, 100}}, {{"g", "t", 0, 96}}), kStart);
  auto out = h.observe(cycle({{"t", 0, 300}}, {{"g", "t", 0, 294}}), kStart + kStep);
  const auto& p = out->partition_lags[0];
  EXPECT_LT(p.consume_rate, p.produce_rate);
  EXPECT_EQ(p.catchup_seconds, 0.0);
  EXPECT_EQ(p.status, Status::ok);
}

}  // namespace
}  // namespace klag::lag
