// Groups of other types (kafka/group_census.h): what the census lists that
// ListConsumerGroups did not. Kafka Streams groups on the streams protocol
// and share groups come back from the census's DescribeGroups as Dead with
// an empty protocol type; classic groups with their own protocol type.
#include <gtest/gtest.h>

#include "collect/collector.h"

namespace klag::collect {
namespace {

kafka::Census census(std::vector<kafka::CensusGroup> groups) {
  kafka::Census c;
  c.groups = std::move(groups);
  return c;
}

TEST(OtherGroupTypes, GroupsOnlyTheCensusListsAreCollected) {
  // As measured on Kafka 4.4.0: a Streams group (KIP-1071) and a share
  // group (KIP-932) beside a classic Streams group.
  const auto c = census({{.id = "classic-app", .protocol_type = "consumer"},
                         {.id = "share", .protocol_type = ""},
                         {.id = "streams-app", .protocol_type = ""}});
  const std::vector<kafka::ListedGroup> listed = {{.id = "classic-app", .state = "Stable"}};
  EXPECT_EQ(groups_of_other_types(c, listed), (std::set<std::string>{"share", "streams-app"}));
}

TEST(OtherGroupTypes, ClassicGroupsOfAnotherProtocolStayOut) {
  // Kafka Connect workers and any other classic group whose protocol type
  // is not "consumer" have no consumer offsets to report.
  const auto c = census({{.id = "connect-cluster", .protocol_type = "connect"},
                         {.id = "custom", .protocol_type = "my-protocol"}});
  EXPECT_TRUE(groups_of_other_types(c, {}).empty());
}

TEST(OtherGroupTypes, AConsumerGroupTheListingMissedIsCollected) {
  // The census found a classic consumer group ListConsumerGroups did not
  // return (its broker timed out there): its offsets are fetched too.
  const auto c = census({{.id = "a", .protocol_type = "consumer"}, {.id = "b", .protocol_type = "consumer"}});
  EXPECT_EQ(groups_of_other_types(c, {{.id = "a"}}), (std::set<std::string>{"b"}));
}

TEST(OtherGroupTypes, AFailedCensusAddsNothing) {
  kafka::Census c;
  c.error = kafka::Error::timed_out("ListGroups (all group types)");
  EXPECT_TRUE(groups_of_other_types(c, {{.id = "a"}}).empty());
}

}  // namespace
}  // namespace klag::collect
