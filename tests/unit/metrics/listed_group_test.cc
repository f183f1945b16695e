// An Empty group settled by ListGroups (no DescribeGroups) exports exactly
// what the same group described exports: every family, the JSON API, and
// the consumer status that depends on "described" and the member count,
// over several cycles.
#include <gtest/gtest.h>

#include "collect/collector.h"
#include "collect/status.h"
#include "lag/compute.h"
#include "lag/history.h"
#include "metrics/api.h"
#include "metrics/render.h"

namespace klag::metrics {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

// Cycle `n` of a cluster with a live group and an Empty one whose groups
// come from `idle`. The Empty group's lag stays put (nobody consumes) while
// the producer moves on, so its status ends up "stop".
lag::ClusterSample cycle(int n, const lag::Group& idle) {
  lag::ClusterSample s;
  s.partitions = {{"orders", 0, 0, 100 + 10 * n}, {"orders", 1, 0, 200 + 10 * n}};
  s.groups = {lag::Group{.id = "live",
                         .state = "Stable",
                         .assignor = "range",
                         .described = true,
                         .members = {lag::Member{.client_id = "c1", .consumer_id = "m1", .host = "/10.0.0.1",
                                                 .assignment = {{"orders", 0}}}}},
              idle};
  s.committed = {{"live", "orders", 0, 95 + 10 * n}, {"idle", "orders", 0, 40}, {"idle", "orders", 1, 150}};
  s.observed_unix_ms = kStart + 1000 * n;
  return s;
}

std::vector<collect::ClusterStatus> run_cycles(const lag::Group& idle, int cycles) {
  lag::History history({.window = 3, .min_lag = 1});
  collect::ClusterStatus c;
  c.name = "prod";
  c.first_cycle_done = c.up = true;
  for (int n = 0; n < cycles; ++n) {
    const auto s = cycle(n, idle);
    c.lag = history.observe(lag::compute(s, s.observed_unix_ms), s.observed_unix_ms);
    c.cycles = static_cast<uint64_t>(n + 1);
  }
  return {c};
}

TEST(ListedGroup, ExportsTheSameSeriesAsTheDescribedEmptyGroup) {
  const lag::Group described{.id = "idle", .state = "Empty", .assignor = "", .described = true, .members = {}};
  const lag::Group listed = collect::group_from_listing({.id = "idle", .state = "Empty"});
  for (int cycles : {1, 2, 5}) {
    const auto a = run_cycles(described, cycles);
    const auto b = run_cycles(listed, cycles);
    EXPECT_EQ(render_prometheus(a), render_prometheus(b)) << cycles << " cycles";
    EXPECT_EQ(render_groups_json(a, {}), render_groups_json(b, {})) << cycles << " cycles";
  }
  // Not vacuous: the Empty group is there with its state, no members, and
  // (window full, lag not moving, no member) the status "stop".
  const std::string text = render_prometheus(run_cycles(listed, 5));
  EXPECT_NE(text.find("kafka_consumergroup_group_info{cluster_name=\"prod\",group=\"idle\",state=\"Empty\",assignor=\"\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("kafka_consumergroup_group_members{cluster_name=\"prod\",group=\"idle\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("kafka_consumergroup_group_status{cluster_name=\"prod\",group=\"idle\",status=\"stop\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace klag::metrics
