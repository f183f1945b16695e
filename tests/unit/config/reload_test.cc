#include <gtest/gtest.h>

#include "config/config.h"
#include "test_support.h"

namespace klag::config {
namespace {

using testing::parse_ok;

const char* kA = "[[clusters]]\nname = \"a\"\nbootstrap_servers = \"a:9092\"\n";
const char* kB = "[[clusters]]\nname = \"b\"\nbootstrap_servers = \"b:9092\"\n";
const char* kBChanged = "[[clusters]]\nname = \"b\"\nbootstrap_servers = \"b:9092\"\ngroup_blacklist = [\"x\"]\n";
const char* kC = "[[clusters]]\nname = \"c\"\nbootstrap_servers = \"c:9092\"\n";

std::string cfg(std::string exporter, std::initializer_list<const char*> clusters) {
  std::string out = "[exporter]\n" + exporter;
  for (const char* c : clusters) out += c;
  return out;
}

TEST(PlanReload, SortsClustersIntoAddedRemovedChangedUnchanged) {
  auto plan = plan_reload(parse_ok(cfg("", {kA, kB})), parse_ok(cfg("", {kBChanged, kC, kA})));
  ASSERT_TRUE(plan) << plan.error();
  EXPECT_EQ(plan->added, std::vector<std::string>{"c"});
  EXPECT_TRUE(plan->removed.empty());
  EXPECT_EQ(plan->changed, std::vector<std::string>{"b"});
  EXPECT_EQ(plan->unchanged, std::vector<std::string>{"a"});

  plan = plan_reload(parse_ok(cfg("", {kA, kB})), parse_ok(cfg("", {kB})));
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->removed, std::vector<std::string>{"a"});
  EXPECT_EQ(plan->unchanged, std::vector<std::string>{"b"});
}

TEST(PlanReload, IdenticalConfigChangesNothing) {
  auto plan = plan_reload(parse_ok(cfg("poll_interval = \"5s\"\n", {kA})), parse_ok(cfg("poll_interval = \"5s\"\n", {kA})));
  ASSERT_TRUE(plan);
  EXPECT_TRUE(plan->added.empty() && plan->removed.empty() && plan->changed.empty());
  EXPECT_EQ(plan->unchanged, std::vector<std::string>{"a"});
}

TEST(PlanReload, CollectionSettingsRestartEveryCluster) {
  auto plan = plan_reload(parse_ok(cfg("poll_interval = \"5s\"\n", {kA, kB})),
                          parse_ok(cfg("poll_interval = \"10s\"\n", {kA, kB})));
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->changed, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(plan->unchanged.empty());
}

TEST(PlanReload, StartOnlySettingsAreRejectedByName) {
  const auto base = parse_ok(cfg("http_port = 9000\n", {kA}));
  auto plan = plan_reload(base, parse_ok(cfg("http_port = 9001\n", {kA})));
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error(), "exporter.http_port changed; it applies only at start, restart to change it");
  plan = plan_reload(base, parse_ok(cfg("http_port = 9000\n[exporter.sharding]\nenabled = true\n", {kA})));
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().find("exporter.sharding"), std::string::npos);
  plan = plan_reload(base, parse_ok(cfg("http_port = 9000\n[exporter.otel]\nenabled = true\n", {kA})));
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().find("exporter.otel"), std::string::npos);
}

TEST(PlanReload, TheCoordinationClusterCannotChangeUnderARunningGroup) {
  const auto base = parse_ok(cfg("[exporter.sharding]\nenabled = true\n", {kA, kB}));
  // Reordering makes "b" the default coordination cluster.
  auto plan = plan_reload(base, parse_ok(cfg("[exporter.sharding]\nenabled = true\n", {kB, kA})));
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().find("sharding group"), std::string::npos);
  // Other clusters may come and go.
  plan = plan_reload(base, parse_ok(cfg("[exporter.sharding]\nenabled = true\n", {kA, kC})));
  ASSERT_TRUE(plan) << plan.error();
  EXPECT_EQ(plan->removed, std::vector<std::string>{"b"});
  EXPECT_EQ(plan->added, std::vector<std::string>{"c"});
}

TEST(PlanReload, TheCoordinationClustersFiltersMayChange) {
  const char* kAFiltered = "[[clusters]]\nname = \"a\"\nbootstrap_servers = \"a:9092\"\ngroup_whitelist = [\"x.*\"]\n";
  const char* kAMoved = "[[clusters]]\nname = \"a\"\nbootstrap_servers = \"a2:9092\"\n";
  const auto base = parse_ok(cfg("[exporter.leadership]\nenabled = true\n", {kA}));
  auto plan = plan_reload(base, parse_ok(cfg("[exporter.leadership]\nenabled = true\n", {kAFiltered})));
  ASSERT_TRUE(plan) << plan.error();
  EXPECT_EQ(plan->changed, std::vector<std::string>{"a"});
  plan = plan_reload(base, parse_ok(cfg("[exporter.leadership]\nenabled = true\n", {kAMoved})));
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().find("leadership group"), std::string::npos);
}

}  // namespace
}  // namespace klag::config
