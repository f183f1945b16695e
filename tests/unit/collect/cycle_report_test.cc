#include "collect/cycle_report.h"

#include <gtest/gtest.h>

#include <regex>
#include <string_view>
#include <vector>

namespace klag::collect {
namespace {

using std::chrono::seconds;

// tests/integration/klag_harness.py's cycle_line() pattern: the integration
// tests and bench/scale_bench.py parse the end-of-cycle line with it.
const std::regex kHarness(R"(cluster viewer: cycle (\d+) (ok|partial|failed) in ([0-9.]+)s)");

TEST(CycleLine, OkOnlyWithoutPartialErrors) {
  PartialErrors none;
  none.groups_fetched = 4000;
  none.partitions = 19000;
  const std::string ok = cycle_line("viewer", 7, 1.2345, &none, "");
  EXPECT_EQ(ok, "cluster viewer: cycle 7 ok in 1.234s");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(ok, m, kHarness));
  EXPECT_EQ(m[1], "7");
  EXPECT_EQ(m[2], "ok");
  EXPECT_EQ(m[3], "1.234");
}

TEST(CycleLine, ThousandsOfFailedGroupsAreOneLineThatNeverSaysOk) {
  // The cycle at 19,000 partitions and 4,000 groups that used to say "ok".
  PartialErrors e;
  e.committed_offsets = 3999;
  e.groups_fetched = 4000;
  e.watermarks = 12;
  e.partitions = 19000;
  e.describe_groups = 2;
  e.groups_described = 10;
  e.list_groups = 1;
  e.first_error = "ListConsumerGroupOffsets g-0001: Broker: Not coordinator";
  EXPECT_EQ(e.total(), 3999u + 12 + 2 + 1);
  const std::string line = cycle_line("viewer", 42, 30.0, &e, "");
  EXPECT_EQ(line,
            "cluster viewer: cycle 42 partial in 30.000s: partial errors: committed offsets of 3999/4000 groups, "
            "watermarks of 12/19000 partitions, descriptions of 2/10 groups, ListGroups of 1 broker "
            "(first: ListConsumerGroupOffsets g-0001: Broker: Not coordinator)");
  EXPECT_EQ(line.find(" ok "), std::string::npos);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(line, m, kHarness));
  EXPECT_EQ(m[2], "partial");
  EXPECT_EQ(m[3], "30.000");
}

TEST(CycleLine, OnlyTheKindsThatFailedAreNamed) {
  PartialErrors e;
  e.watermarks = 3;
  e.partitions = 8;
  e.groups_fetched = 5;
  EXPECT_EQ(describe(e), "watermarks of 3/8 partitions");
  e = {};
  e.list_groups = 2;
  EXPECT_EQ(describe(e), "ListGroups of 2 brokers");
  e.metadata = 1;
  EXPECT_EQ(e.total(), 3u);
  EXPECT_EQ(describe(e), "ListGroups of 2 brokers, metadata of the last cycle");
  e = {};
  e.metadata = 1;
  e.first_error = "Metadata: Local: Broker transport failure";
  EXPECT_EQ(describe(e), "metadata of the last cycle (first: Metadata: Local: Broker transport failure)");
}

TEST(CycleLine, EveryKindInOrderOfConcern) {
  PartialErrors e{.list_groups = 1, .describe_groups = 2, .committed_offsets = 3, .watermarks = 4, .metadata = 1,
                  .groups_described = 20, .groups_fetched = 30, .partitions = 40};
  EXPECT_EQ(describe(e),
            "committed offsets of 3/30 groups, watermarks of 4/40 partitions, descriptions of 2/20 groups, "
            "ListGroups of 1 broker, metadata of the last cycle");
  // Without "out of", the count alone.
  e.groups_described = e.groups_fetched = e.partitions = 0;
  EXPECT_EQ(describe(e),
            "committed offsets of 3 groups, watermarks of 4 partitions, descriptions of 2 groups, "
            "ListGroups of 1 broker, metadata of the last cycle");
}

TEST(PartialErrorKinds, TotalAndTotalsCoverEveryKind) {
  // Each kind its own power of two, so a kind left out or counted twice shows.
  PartialErrors e;
  size_t expected = 0;
  for (size_t i = 0; i < kPartialErrorKinds.size(); ++i) {
    e.*kPartialErrorKinds[i].count = size_t{1} << i;
    expected += size_t{1} << i;
  }
  e.groups_described = e.groups_fetched = e.partitions = 1000;  // out-of counts are no errors
  EXPECT_EQ(e.total(), expected);
  PartialErrorTotals t;
  t.add(e);
  t.add(e);
  for (size_t i = 0; i < kPartialErrorKinds.size(); ++i) {
    EXPECT_EQ(t.*kPartialErrorKinds[i].total, uint64_t{2} << i) << kPartialErrorKinds[i].name;
  }
  EXPECT_EQ(t.list_groups, 2u);
  EXPECT_EQ(t.describe_groups, 4u);
  EXPECT_EQ(t.committed_offsets, 8u);
  EXPECT_EQ(t.watermarks, 16u);
  EXPECT_EQ(t.metadata, 32u);
}

TEST(PartialErrorKinds, NamesAreTheMetricsKindLabelsInOrder) {
  std::vector<std::string_view> names;
  for (const auto& k : kPartialErrorKinds) names.push_back(k.name);
  EXPECT_EQ(names, (std::vector<std::string_view>{"list_groups", "describe_groups", "committed_offsets", "watermarks",
                                                  "metadata"}));
}

TEST(CycleLine, FailedCarriesTheError) {
  const std::string line = cycle_line("viewer", 3, 5, nullptr, "list_groups: Local: Timed out");
  EXPECT_EQ(line, "cluster viewer: cycle 3 failed in 5.000s: list_groups: Local: Timed out");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(line, m, kHarness));
  EXPECT_EQ(m[2], "failed");
}

TEST(PartialWarnings, AtMostOneWarningPerIntervalAndTheSuppressedCounted) {
  PartialWarnings w(seconds(60));
  const auto t0 = PartialWarnings::Clock::time_point{} + seconds(1000);
  EXPECT_TRUE(w.partial(t0));  // the first one warns at once
  EXPECT_EQ(w.suppressed(), 0u);
  // Every 5 s cycle for the next minute goes to debug.
  for (int i = 1; i < 12; ++i) EXPECT_FALSE(w.partial(t0 + seconds(5 * i))) << i;
  EXPECT_TRUE(w.partial(t0 + seconds(60)));
  EXPECT_EQ(w.suppressed(), 11u);
  EXPECT_FALSE(w.partial(t0 + seconds(65)));
  // A clean cycle after a warning says so once, with the run's length.
  EXPECT_TRUE(w.clean());
  EXPECT_EQ(w.finished_run(), 14u);
  EXPECT_FALSE(w.clean());
  EXPECT_EQ(w.finished_run(), 0u);
}

TEST(PartialWarnings, FlappingCyclesStillWarnOncePerInterval) {
  PartialWarnings w(seconds(60));
  const auto t0 = PartialWarnings::Clock::time_point{} + seconds(1000);
  int warnings = 0;
  int recoveries = 0;
  // Ten minutes of cycles every 5 s, every other one with partial errors.
  for (int i = 0; i < 120; ++i) {
    if (i % 2 == 0) {
      warnings += w.partial(t0 + seconds(5 * i));
    } else {
      recoveries += w.clean();
    }
  }
  EXPECT_EQ(warnings, 10);
  EXPECT_EQ(recoveries, 10);  // one "complete again" per warning, not per cycle
}

TEST(PartialWarnings, ACleanCycleWithoutAWarningSaysNothing) {
  PartialWarnings w(seconds(60));
  EXPECT_FALSE(w.clean());
  const auto t0 = PartialWarnings::Clock::time_point{} + seconds(1000);
  EXPECT_TRUE(w.partial(t0));
  EXPECT_TRUE(w.clean());
  EXPECT_FALSE(w.partial(t0 + seconds(10)));  // within the interval: debug
  EXPECT_FALSE(w.clean());                    // and so no "complete again" either
  EXPECT_EQ(w.finished_run(), 1u);
}

}  // namespace
}  // namespace klag::collect
