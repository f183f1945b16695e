// KIP-848 groups (group.protocol=consumer, and mixed classic+consumer
// groups) that librdkafka 2.0.2 cannot describe: DescribeGroups answers a
// placeholder Dead with no members. reconcile_with_listing turns that into
// the listing's state (or Unknown), undescribed, never Dead or 0 members.
#include <gtest/gtest.h>

#include "collect/collector.h"
#include "lag/compute.h"

namespace klag::collect {
namespace {

// What AdminClient::describe_groups returns for such a group (Kafka 3.9.1
// and 4.4.0 alike): state Dead, protocol "", no members, described.
lag::Group placeholder(const std::string& id) {
  return lag::Group{.id = id, .state = "Dead", .assignor = "", .described = true, .members = {}};
}

lag::Group stable_classic(const std::string& id) {
  return lag::Group{.id = id,
                    .state = "Stable",
                    .assignor = "range",
                    .described = true,
                    .members = {lag::Member{.client_id = "c", .consumer_id = "m", .host = "/10.0.0.1",
                                            .assignment = {{"t", 0}}}}};
}

TEST(UndescribableGroup, ListedStableDescribedDeadIsStableUndescribed) {
  const lag::Group g = reconcile_with_listing(placeholder("k"), {.id = "k", .state = "Stable"});
  EXPECT_EQ(g.id, "k");
  EXPECT_EQ(g.state, "Stable");
  EXPECT_FALSE(g.described);  // so no members metric
  EXPECT_TRUE(g.members.empty());
  EXPECT_EQ(g.assignor, "");
}

TEST(UndescribableGroup, AStateLibrdkafkaCannotNameIsUnknown) {
  // librdkafka 2.0.2 lists Assigning and Reconciling as "Unknown"; an old
  // ListGroups or two brokers that disagree give "Unknown" too.
  const lag::Group g = reconcile_with_listing(placeholder("k"), {.id = "k", .state = "Unknown"});
  EXPECT_EQ(g.state, "Unknown");
  EXPECT_FALSE(g.described);
  EXPECT_TRUE(g.members.empty());
}

TEST(UndescribableGroup, ClassicRebalanceStatesAnsweredDeadAreUnknown) {
  // A KIP-848 group is never listed in these: the group changed (died, or
  // was converted) between the listing and the describe.
  for (const char* state : {"PreparingRebalance", "CompletingRebalance", "", "stable"}) {
    const lag::Group g = reconcile_with_listing(placeholder("k"), {.id = "k", .state = state});
    EXPECT_EQ(g.state, "Unknown") << state;
    EXPECT_FALSE(g.described) << state;
  }
}

TEST(UndescribableGroup, NeverReportsDeadOrZeroMembersForAGroupListedLive) {
  for (const char* state : {"Stable", "Unknown", "PreparingRebalance", "CompletingRebalance"}) {
    const lag::Group g = reconcile_with_listing(placeholder("k"), {.id = "k", .state = state});
    EXPECT_NE(g.state, "Dead") << state;
    EXPECT_FALSE(g.described) << state;
  }
}

TEST(UndescribableGroup, ARealDescriptionIsKept) {
  const lag::Group classic = stable_classic("c");
  const lag::Group g = reconcile_with_listing(classic, {.id = "c", .state = "Stable"});
  EXPECT_EQ(g.state, "Stable");
  EXPECT_TRUE(g.described);
  EXPECT_EQ(g.assignor, "range");
  ASSERT_EQ(g.members.size(), 1u);
  EXPECT_EQ(g.members[0].consumer_id, "m");

  // Described in another state than listed (it moved on in between): the
  // description is newer and is kept.
  for (const char* state : {"Empty", "PreparingRebalance", "Stable"}) {
    lag::Group d{.id = "c", .state = state, .assignor = "", .described = true, .members = {}};
    const lag::Group r = reconcile_with_listing(d, {.id = "c", .state = "Unknown"});
    EXPECT_EQ(r.state, state);
    EXPECT_TRUE(r.described);
  }
}

TEST(UndescribableGroup, DeadWithMembersOrUndescribedIsKept) {
  lag::Group dead_with_member = stable_classic("c");
  dead_with_member.state = "Dead";
  EXPECT_EQ(reconcile_with_listing(dead_with_member, {.id = "c", .state = "Stable"}).state, "Dead");

  // A failed describe: already Unknown and undescribed.
  const lag::Group failed{.id = "c"};
  const lag::Group r = reconcile_with_listing(failed, {.id = "c", .state = "Stable"});
  EXPECT_EQ(r.state, "Unknown");
  EXPECT_FALSE(r.described);
}

TEST(UndescribableGroup, ListedDeadOrEmptyKeepsTheAnswer) {
  // Such groups are settled by the listing and not described at all; were
  // they described, Dead after Empty (deleted in between) is the truth.
  for (const char* state : {"Empty", "Dead"}) {
    const lag::Group g = reconcile_with_listing(placeholder("k"), {.id = "k", .state = state});
    EXPECT_EQ(g.state, "Dead") << state;
    EXPECT_TRUE(g.described) << state;
  }
}

TEST(UndescribableGroup, AnotherGroupsListingIsIgnored) {
  const lag::Group g = reconcile_with_listing(placeholder("k"), {.id = "other", .state = "Stable"});
  EXPECT_EQ(g.state, "Dead");
  EXPECT_TRUE(g.described);
}

TEST(UndescribableGroup, ComputeKeepsTheStateAndHasNoMemberCountOrLabels) {
  // Lag still comes from the committed offsets; member labels stay empty
  // and the group is marked undescribed, which the members family skips.
  lag::ClusterSample s;
  s.groups = {reconcile_with_listing(placeholder("k"), {.id = "k", .state = "Stable"}),
              reconcile_with_listing(placeholder("r"), {.id = "r", .state = "Unknown"})};
  s.committed = {{"k", "t", 0, 10}, {"r", "t", 0, 40}};
  s.partitions = {{"t", 0, 0, 100}};
  const lag::ClusterLag out = lag::compute(s, 1'700'000'000'000);
  ASSERT_EQ(out.groups.size(), 2u);
  EXPECT_EQ(out.groups[0].group, "k");
  EXPECT_EQ(out.groups[0].state, "Stable");
  EXPECT_FALSE(out.groups[0].described);
  EXPECT_EQ(out.groups[1].state, "Unknown");
  EXPECT_FALSE(out.groups[1].described);
  ASSERT_EQ(out.partition_lags.size(), 2u);
  for (const auto& p : out.partition_lags) {
    EXPECT_EQ(p.lag, p.group == "k" ? 90 : 60);
    EXPECT_EQ(p.member_host, "");
    EXPECT_EQ(p.consumer_id, "");
    EXPECT_EQ(p.client_id, "");
  }
}

}  // namespace
}  // namespace klag::collect
