#include "collect/status.h"

#include <gtest/gtest.h>

namespace klag::collect {
namespace {

TEST(ForgetTerm, ForgetsTheTermsCyclesAndKeepsIdentityAndCounters) {
  ClusterStatus s;
  s.name = "prod";
  s.labels = {{"env", "production"}};
  s.granularity = config::Granularity::topic;
  s.member_labels = false;
  s.partition_status = false;
  s.sampling_enabled = true;
  s.first_cycle_done = true;
  s.up = false;
  s.stale = true;
  s.cycles = 40;
  s.failed_cycles = 3;
  s.last_success_unix_seconds = 1700000000.25;
  s.last_cycle_seconds = 0.5;
  s.timings.metadata = std::chrono::milliseconds(3);
  s.last_sampling.duration = std::chrono::milliseconds(250);
  s.timestamp_reads_total = 9;
  s.timestamp_cache_hits_total = 4;
  s.timestamp_timeouts_total = 1;
  s.timestamp_denied_total = 2;
  s.timestamp_fetch_bytes_total = 12345;
  s.partial_errors_total = {.list_groups = 1, .describe_groups = 2, .committed_offsets = 3, .watermarks = 4,
                            .metadata = 5};
  s.last_error = "metadata: timed out";
  s.lag = std::make_shared<const lag::ClusterLag>();

  forget_term(s);
  // As before a first cycle, so /ready waits for one of the new term.
  EXPECT_FALSE(s.first_cycle_done);
  EXPECT_FALSE(s.up);
  EXPECT_FALSE(s.stale);
  EXPECT_EQ(s.last_success_unix_seconds, 0);
  EXPECT_EQ(s.last_cycle_seconds, 0);
  EXPECT_EQ(s.timings.metadata.count(), 0);
  EXPECT_EQ(s.last_sampling.duration.count(), 0);
  EXPECT_EQ(s.last_error, "");
  EXPECT_EQ(s.lag, nullptr);
  // Identity and counters stay.
  EXPECT_EQ(s.name, "prod");
  EXPECT_EQ(s.labels.size(), 1u);
  EXPECT_EQ(s.granularity, config::Granularity::topic);
  EXPECT_FALSE(s.member_labels);
  EXPECT_FALSE(s.partition_status);
  EXPECT_TRUE(s.sampling_enabled);
  EXPECT_EQ(s.cycles, 40u);
  EXPECT_EQ(s.failed_cycles, 3u);
  EXPECT_EQ(s.timestamp_reads_total, 9u);
  EXPECT_EQ(s.timestamp_cache_hits_total, 4u);
  EXPECT_EQ(s.timestamp_timeouts_total, 1u);
  EXPECT_EQ(s.timestamp_denied_total, 2u);
  EXPECT_EQ(s.timestamp_fetch_bytes_total, 12345u);
  for (const auto& k : kPartialErrorKinds) EXPECT_NE(s.partial_errors_total.*k.total, 0u) << k.name;
}

}  // namespace
}  // namespace klag::collect
