#include "lag/status.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace klag::lag {
namespace {

const StatusRules kRules{.window = 4, .min_lag = 1};

// Samples 10 s apart from (committed, latest) pairs.
std::vector<Observation> samples(std::initializer_list<std::pair<int64_t, int64_t>> points) {
  std::vector<Observation> out;
  int64_t t = 1'000'000;
  for (auto [c, l] : points) {
    out.push_back({.time_ms = t, .committed = c, .latest = l});
    t += 10'000;
  }
  return out;
}

TEST(Status, AnIncompleteWindowIsUnknown) {
  EXPECT_EQ(evaluate(samples({{0, 10}, {0, 20}, {0, 30}}), true, kRules), Status::unknown);
  EXPECT_EQ(evaluate({}, true, kRules), Status::unknown);
  // Exactly the window's size is enough.
  EXPECT_EQ(evaluate(samples({{0, 10}, {0, 20}, {0, 30}, {0, 40}}), true, kRules), Status::stall);
}

TEST(Status, CaughtUpOnceInTheWindowIsOk) {
  EXPECT_EQ(evaluate(samples({{10, 10}, {10, 20}, {10, 30}, {10, 40}}), false, kRules), Status::ok);
  // min_lag is the boundary: lag 4 counts as caught up with min_lag 5, not with 4.
  const auto w = samples({{6, 10}, {6, 20}, {6, 30}, {6, 40}});
  EXPECT_EQ(evaluate(w, false, {.window = 4, .min_lag = 5}), Status::ok);
  EXPECT_EQ(evaluate(w, false, {.window = 4, .min_lag = 4}), Status::stop);
}

TEST(Status, CommittingWithLagNotGrowingIsOk) {
  // Lag 10 throughout: the consumer keeps pace.
  EXPECT_EQ(evaluate(samples({{0, 10}, {10, 20}, {20, 30}, {30, 40}}), true, kRules), Status::ok);
  // Lag grows, then shrinks once: not growing across the whole window.
  EXPECT_EQ(evaluate(samples({{0, 10}, {5, 20}, {10, 30}, {30, 35}}), true, kRules), Status::ok);
}

TEST(Status, CommittingButLagGrowingAcrossTheWindowIsWarn) {
  EXPECT_EQ(evaluate(samples({{0, 10}, {5, 20}, {10, 30}, {15, 40}}), true, kRules), Status::warn);
  // A step where lag held does not break the growth (10, 15, 15, 20).
  EXPECT_EQ(evaluate(samples({{0, 10}, {5, 20}, {15, 30}, {20, 40}}), true, kRules), Status::warn);
  // One step where lag shrank does (10, 15, 14, 20).
  EXPECT_EQ(evaluate(samples({{0, 10}, {5, 20}, {16, 30}, {20, 40}}), true, kRules), Status::ok);
  // Held at every step and ended where it began: keeping pace, not growing.
  EXPECT_EQ(evaluate(samples({{0, 10}, {10, 20}, {20, 30}, {30, 40}}), false, kRules), Status::ok);
  // Growth by one message overall is enough.
  EXPECT_EQ(evaluate(samples({{0, 10}, {10, 20}, {20, 30}, {30, 41}}), true, kRules), Status::warn);
}

TEST(Status, NotCommittingWithLagIsStallWithMembersStopWithout) {
  const auto w = samples({{5, 10}, {5, 10}, {5, 12}, {5, 20}});
  EXPECT_EQ(evaluate(w, true, kRules), Status::stall);
  EXPECT_EQ(evaluate(w, false, kRules), Status::stop);
  // Lag that does not grow still stalls: the consumer is not moving.
  EXPECT_EQ(evaluate(samples({{5, 10}, {5, 10}, {5, 10}, {5, 10}}), true, kRules), Status::stall);
}

TEST(Status, AnyBackwardCommitIsRewindWhateverElse) {
  EXPECT_EQ(evaluate(samples({{50, 60}, {10, 60}, {20, 60}, {30, 60}}), true, kRules), Status::rewind);
  // Even when the group is caught up at some point.
  EXPECT_EQ(evaluate(samples({{60, 60}, {60, 60}, {59, 60}, {60, 60}}), true, kRules), Status::rewind);
}

TEST(Status, SeverityOrderForTheGroupsWorstPartition) {
  EXPECT_EQ(worse(Status::ok, Status::unknown), Status::unknown);
  EXPECT_EQ(worse(Status::warn, Status::unknown), Status::warn);
  EXPECT_EQ(worse(Status::stall, Status::warn), Status::stall);
  EXPECT_EQ(worse(Status::stall, Status::stop), Status::stop);
  EXPECT_EQ(worse(Status::rewind, Status::stop), Status::rewind);
  EXPECT_EQ(to_string(Status::stall), "stall");
}

TEST(Rates, FromTheFirstToTheLastSample) {
  auto r = rates(samples({{0, 100}, {50, 200}, {100, 300}}));  // 20 s
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->produce_per_second, 10.0);
  EXPECT_DOUBLE_EQ(r->consume_per_second, 5.0);
  // A rewind never gives a negative consume rate.
  r = rates(samples({{100, 300}, {20, 300}}));
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->consume_per_second, 0.0);
  // Nor a high watermark that went down (the topic was recreated).
  r = rates(samples({{0, 300}, {0, 10}}));
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(r->produce_per_second, 0.0);
  EXPECT_FALSE(rates(samples({{0, 1}})));
  std::vector<Observation> same_time{{.time_ms = 5, .committed = 0, .latest = 1}, {.time_ms = 5, .committed = 1, .latest = 2}};
  EXPECT_FALSE(rates(same_time));
}

TEST(Catchup, ZeroWithoutLagFiniteWhileGainingInfiniteOtherwise) {
  EXPECT_EQ(catchup_seconds(0, {.produce_per_second = 100, .consume_per_second = 0}), 0.0);
  EXPECT_DOUBLE_EQ(catchup_seconds(600, {.produce_per_second = 10, .consume_per_second = 30}), 30.0);
  EXPECT_TRUE(std::isinf(catchup_seconds(600, {.produce_per_second = 30, .consume_per_second = 30})));
  EXPECT_TRUE(std::isinf(catchup_seconds(1, {.produce_per_second = 30, .consume_per_second = 10})));
  EXPECT_GT(catchup_seconds(1, {.produce_per_second = 30, .consume_per_second = 10}), 0.0);
}

}  // namespace
}  // namespace klag::lag
