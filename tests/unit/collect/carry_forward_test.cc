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

kafka::GroupOffsets answered_empty(const std::string& group) { return {.group = group}; }

kafka::GroupOffsets not_found(const std::string& group) {
  return {.group = group, .error = kafka::Error::from_code(69, "ListConsumerGroupOffsets " + group)};
}

std::vector<std::string> groups_of(const std::vector<kafka::GroupOffsets>& fetched) {
  std::vector<std::string> out;
  for (const auto& g : fetched) out.push_back(g.group);
  return out;
}

TEST(SettleUnlistedGroups, ListedGroupsAreLeftAlone) {
  // A listed group with no offsets (members, nothing committed yet) stays.
  std::vector<kafka::GroupOffsets> fetched{answered_empty("listed"), ok("b", 3), failed("c")};
  EXPECT_TRUE(settle_unlisted({}, fetched).empty());
  EXPECT_EQ(groups_of(fetched), (std::vector<std::string>{"listed", "b", "c"}));
}

TEST(SettleUnlistedGroups, AnswerDecides) {
  std::vector<kafka::GroupOffsets> fetched{ok("listed", 1),      ok("still-there", 4), answered_empty("deleted"),
                                           not_found("missing"), failed("loading"),    answered_empty("listed-empty")};
  auto gone = settle_unlisted({"still-there", "deleted", "missing", "loading"}, fetched);
  EXPECT_EQ(gone, (std::vector<std::string>{"deleted", "missing"}));
  // The coordinator still has offsets, or could not say: they stay.
  EXPECT_EQ(groups_of(fetched), (std::vector<std::string>{"listed", "still-there", "loading", "listed-empty"}));
}

TEST(SettleUnlistedGroups, AnErrorCarriesTheLastOffsetsForward) {
  // After a restart the listing left "g" out and its coordinator was still
  // loading: its offsets come from the last cycle, not from nowhere.
  Offsets last;
  merge(last, {ok("g", 5)});
  std::vector<kafka::GroupOffsets> fetched{failed("g")};
  EXPECT_TRUE(settle_unlisted({"g"}, fetched).empty());
  EXPECT_EQ(merge(last, std::move(fetched), t0 + seconds(1)), 1u);
  ASSERT_TRUE(last.contains("g"));
  EXPECT_EQ(last["g"].offsets[0].offset, 5);
}

}  // namespace
}  // namespace klag::collect
