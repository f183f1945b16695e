#include "metrics/api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lag/compute.h"
#include "lag/history.h"
#include "lag/shard.h"

namespace klag::metrics {
namespace {

using nlohmann::json;

// Two groups on one topic, observed twice 10 s apart: "live" has a member
// owning partition 0 and stalls there; "idle" has no member and lost data
// on partition 1 (committed 2, log start 5).
collect::ClusterStatus cluster() {
  lag::ClusterSample s;
  s.partitions = {{"orders", 0, 0, 100, 100}, {"orders", 1, 5, 120, 120}};
  s.groups = {lag::Group{.id = "live", .state = "Stable", .assignor = "range", .described = true,
                         .members = {lag::Member{.client_id = "c1", .consumer_id = "m1", .host = "/10.0.0.1",
                                                 .assignment = {{"orders", 0}}}}},
              lag::Group{.id = "idle", .state = "Empty", .described = true}};
  s.committed = {{"live", "orders", 0, 40}, {"idle", "orders", 1, 2}};
  lag::History history({.window = 2, .min_lag = 1});
  history.observe(lag::compute(s, 1'699'999'990'000), 1'699'999'990'000);
  collect::ClusterStatus c;
  c.name = "prod";
  c.first_cycle_done = true;
  c.up = true;
  c.last_success_unix_seconds = 1700000000.5;
  c.last_cycle_seconds = 0.25;
  c.lag = history.observe(lag::compute(s, 1'700'000'000'000), 1'700'000'000'000);
  return c;
}

const json& group(const json& j, const std::string& name) {
  for (const auto& g : j["clusters"][0]["groups"]) {
    if (g["group"] == name) return g;
  }
  static const json none;
  ADD_FAILURE() << "no group " << name;
  return none;
}

TEST(GroupsJson, ClustersGroupsAndPartitions) {
  collect::ClusterStatus down;
  down.name = "dr";
  down.first_cycle_done = true;
  down.last_error = "list_groups: timed out";
  const json j = json::parse(render_groups_json({cluster(), down}, {}));
  EXPECT_EQ(j["leader"], true);
  ASSERT_EQ(j["clusters"].size(), 2u);
  const json& prod = j["clusters"][0];
  EXPECT_EQ(prod["name"], "prod");
  EXPECT_EQ(prod["up"], true);
  EXPECT_EQ(prod["last_success_unix_seconds"], 1700000000.5);
  ASSERT_EQ(prod["groups"].size(), 2u);

  const json& live = group(j, "live");
  EXPECT_EQ(live["state"], "Stable");
  EXPECT_EQ(live["members"], 1);
  EXPECT_EQ(live["sum_lag"], 60);
  EXPECT_EQ(live["status"], "stall");
  EXPECT_EQ(live["data_loss"], false);
  ASSERT_EQ(live["partitions"].size(), 1u);
  const json& p = live["partitions"][0];
  EXPECT_EQ(p["topic"], "orders");
  EXPECT_EQ(p["partition"], 0);
  EXPECT_EQ(p["committed"], 40);
  EXPECT_EQ(p["latest"], 100);
  EXPECT_EQ(p["lag"], 60);
  EXPECT_EQ(p["client_id"], "c1");
  EXPECT_EQ(p["consume_rate"], 0.0);
  EXPECT_EQ(p["catchup_seconds"], "+Inf");  // JSON has no infinity
  EXPECT_TRUE(p["lag_seconds"].is_null());  // sampling was off

  const json& idle = group(j, "idle");
  EXPECT_EQ(idle["members"], 0);
  EXPECT_EQ(idle["status"], "stop");
  EXPECT_EQ(idle["data_loss"], true);
  EXPECT_EQ(idle["partitions"][0]["messages_lost"], 3);

  const json& dr = j["clusters"][1];
  EXPECT_EQ(dr["up"], false);
  EXPECT_TRUE(dr["last_success_unix_seconds"].is_null());
  EXPECT_EQ(dr["error"], "list_groups: timed out");
  EXPECT_TRUE(dr["groups"].empty());
}

TEST(GroupsJson, StandbyAndShardsLimitTheGroups) {
  ExporterStats standby;
  standby.scope.standby = true;
  json j = json::parse(render_groups_json({cluster()}, standby));
  EXPECT_EQ(j["leader"], false);
  EXPECT_TRUE(j["clusters"][0]["groups"].empty());

  // Two shards: each replica lists exactly the groups of its shard.
  size_t seen = 0;
  for (int mine = 0; mine < 2; ++mine) {
    ExporterStats sharded;
    sharded.scope.shards = {mine == 0, mine == 1};
    j = json::parse(render_groups_json({cluster()}, sharded));
    for (const auto& g : j["clusters"][0]["groups"]) {
      EXPECT_EQ(lag::shard_of("prod", g["group"].get<std::string>(), 2), static_cast<uint32_t>(mine));
      ++seen;
    }
  }
  EXPECT_EQ(seen, 2u);
}

TEST(GroupsJson, InvalidUtf8InNamesIsReplacedNotFatal) {
  collect::ClusterStatus c = cluster();
  auto lag = std::make_shared<lag::ClusterLag>(*c.lag);
  lag->groups[0].group = "bad\xff";
  lag->partition_lags.clear();
  c.lag = lag;
  const json j = json::parse(render_groups_json({c}, {}));
  EXPECT_EQ(j["clusters"][0]["groups"].size(), 2u);
}

}  // namespace
}  // namespace klag::metrics
