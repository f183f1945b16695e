#include <gtest/gtest.h>

#include "collect/collector.h"

namespace klag::collect {
namespace {

using Offsets = std::map<std::string, std::vector<lag::CommittedOffset>>;

kafka::GroupOffsets ok(const std::string& group, int64_t offset) {
  return {.group = group, .offsets = {{group, "t", 0, offset}}};
}

kafka::GroupOffsets failed(const std::string& group) {
  return {.group = group, .error = kafka::Error::timed_out("ListConsumerGroupOffsets " + group)};
}

TEST(CarryForwardOffsets, FreshAnswersReplaceOldOnes) {
  Offsets last;
  EXPECT_EQ(carry_forward_offsets(last, {ok("a", 5), ok("b", 7)}), 0u);
  EXPECT_EQ(carry_forward_offsets(last, {ok("a", 6), ok("b", 9)}), 0u);
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last["a"][0].offset, 6);
  EXPECT_EQ(last["b"][0].offset, 9);
}

TEST(CarryForwardOffsets, FailedGroupKeepsItsLastOffsets) {
  Offsets last;
  carry_forward_offsets(last, {ok("a", 5), ok("b", 7)});
  EXPECT_EQ(carry_forward_offsets(last, {failed("a"), ok("b", 8)}), 1u);
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last["a"][0].offset, 5);
  EXPECT_EQ(last["b"][0].offset, 8);
}

TEST(CarryForwardOffsets, FailedGroupWithoutHistoryHasNoOffsets) {
  Offsets last;
  EXPECT_EQ(carry_forward_offsets(last, {failed("new")}), 1u);
  EXPECT_TRUE(last.empty());
}

TEST(CarryForwardOffsets, GroupsNoLongerListedAreForgotten) {
  Offsets last;
  carry_forward_offsets(last, {ok("a", 5), ok("deleted", 7)});
  carry_forward_offsets(last, {ok("a", 5)});
  EXPECT_EQ(last.size(), 1u);
  EXPECT_FALSE(last.contains("deleted"));
}

}  // namespace
}  // namespace klag::collect
