#include <gtest/gtest.h>

#include "collect/collector.h"

namespace klag::collect {
namespace {

using Offsets = std::map<std::string, KnownOffsets>;
using std::chrono::seconds;
const auto t0 = kafka::Clock::now();
constexpr std::chrono::milliseconds kMaxAge = seconds(90);

size_t merge(Offsets& last, std::vector<kafka::GroupOffsets> fetched, kafka::Clock::time_point now = t0) {
  return carry_forward_offsets(last, std::move(fetched), now, kMaxAge);
}

kafka::GroupOffsets ok(const std::string& group, int64_t offset) {
  return {.group = group, .offsets = {{group, "t", 0, offset}}};
}

kafka::GroupOffsets failed(const std::string& group) {
  return {.group = group, .error = kafka::Error::timed_out("ListConsumerGroupOffsets " + group)};
}

TEST(CarryForwardOffsets, FreshAnswersReplaceOldOnes) {
  Offsets last;
  EXPECT_EQ(merge(last, {ok("a", 5), ok("b", 7)}), 0u);
  EXPECT_EQ(merge(last, {ok("a", 6), ok("b", 9)}), 0u);
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last["a"].offsets[0].offset, 6);
  EXPECT_EQ(last["b"].offsets[0].offset, 9);
}

TEST(CarryForwardOffsets, FailedGroupKeepsItsLastOffsets) {
  Offsets last;
  merge(last, {ok("a", 5), ok("b", 7)});
  EXPECT_EQ(merge(last, {failed("a"), ok("b", 8)}), 1u);
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last["a"].offsets[0].offset, 5);
  EXPECT_EQ(last["b"].offsets[0].offset, 8);
}

TEST(CarryForwardOffsets, CarriedOffsetsExpireAfterMaxAge) {
  Offsets last;
  merge(last, {ok("a", 5)}, t0);
  EXPECT_EQ(merge(last, {failed("a")}, t0 + seconds(60)), 1u);
  ASSERT_TRUE(last.contains("a"));
  EXPECT_EQ(last["a"].fetched_at, t0) << "carrying forward keeps the original fetch time";
  EXPECT_EQ(merge(last, {failed("a")}, t0 + seconds(91)), 1u);
  EXPECT_FALSE(last.contains("a"));
}

TEST(CarryForwardOffsets, FailedGroupWithoutHistoryHasNoOffsets) {
  Offsets last;
  EXPECT_EQ(merge(last, {failed("new")}), 1u);
  EXPECT_TRUE(last.empty());
}

TEST(CarryForwardOffsets, GroupsNoLongerListedAreForgotten) {
  Offsets last;
  merge(last, {ok("a", 5), ok("deleted", 7)});
  merge(last, {ok("a", 5)});
  EXPECT_EQ(last.size(), 1u);
  EXPECT_FALSE(last.contains("deleted"));
}

}  // namespace
}  // namespace klag::collect
