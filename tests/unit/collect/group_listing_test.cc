// Which listed groups skip DescribeGroups, and what they stand for instead.
#include <gtest/gtest.h>

#include "collect/collector.h"

namespace klag::collect {
namespace {

TEST(GroupListing, OnlyGroupsWithoutMembersAreSettledByTheListing) {
  for (const char* state : {"Empty", "Dead"}) {
    EXPECT_TRUE(settled_by_listing({.id = "g", .state = state})) << state;
  }
  // Any state that may have members, and any state the listing did not give
  // (an old ListGroups, brokers that disagree, a KIP-848 "Assigning"), is
  // described.
  for (const char* state : {"Stable", "PreparingRebalance", "CompletingRebalance", "Unknown", "", "empty"}) {
    EXPECT_FALSE(settled_by_listing({.id = "g", .state = state})) << state;
  }
}

TEST(GroupListing, AListedEmptyGroupIsWhatDescribeGroupsAnswersForOne) {
  // DescribeGroups on an Empty group (Kafka 3.9 and 4.x, simple or once
  // subscribed): state "Empty", protocol "" (librdkafka's assignor), no
  // members; AdminClient::describe_groups turns that into exactly this.
  const lag::Group described{.id = "idle", .state = "Empty", .assignor = "", .described = true, .members = {}};
  const lag::Group listed = group_from_listing({.id = "idle", .state = "Empty"});
  EXPECT_EQ(listed.id, described.id);
  EXPECT_EQ(listed.state, described.state);
  EXPECT_EQ(listed.assignor, described.assignor);
  EXPECT_EQ(listed.described, described.described);
  EXPECT_TRUE(listed.members.empty());

  const lag::Group dead = group_from_listing({.id = "gone", .state = "Dead"});
  EXPECT_EQ(dead.state, "Dead");
  EXPECT_TRUE(dead.described);
  EXPECT_TRUE(dead.members.empty());
}

}  // namespace
}  // namespace klag::collect
