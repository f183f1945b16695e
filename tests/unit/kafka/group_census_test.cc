// GroupCensus's worker: a listing runs off the caller's thread, a wait
// never outlasts its deadline, and a failed listing is reported as such.
// Against an address where nothing listens: what it lists on a real broker
// is tested in tests/integration/test_streams_groups.py.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "kafka/group_census.h"

namespace klag::kafka {
namespace {

using namespace std::chrono_literals;

// spdlog's registry is made on first use. The exporter makes it in main,
// before any librdkafka thread logs; here it would be made by the first
// log line, and TSan cannot see the static-init guard of the uninstrumented
// libspdlog. So it is made now, before any thread starts.
[[maybe_unused]] const spdlog::logger* const kLogger = spdlog::default_logger_raw();

ClientOptions nowhere() {
  return ClientOptions{.cluster_name = "census-test", .bootstrap_servers = "127.0.0.1:1", .properties = {}};
}

Deadline in(Clock::duration d) { return Deadline{.at = Clock::now() + d, .cancel = nullptr}; }

void wait_until_no_listing_is_abandoned() {
  const auto until = Clock::now() + 5s;
  while (GroupCensus::abandoned_listings() > 0 && Clock::now() < until) std::this_thread::sleep_for(20ms);
}

TEST(GroupCensus, NothingBeforeTheFirstRequest) {
  auto census = GroupCensus::create(nowhere(), 200ms);
  ASSERT_TRUE(census.has_value()) << census.error().to_string();
  const auto start = Clock::now();
  EXPECT_FALSE((*census)->wait(in(2s)).has_value());
  EXPECT_LT(Clock::now() - start, 100ms);  // nothing running: no wait at all
}

TEST(GroupCensus, AnUnreachableClusterIsAnErrorWithinTheTimeout) {
  auto census = GroupCensus::create(nowhere(), 300ms);
  ASSERT_TRUE(census.has_value());
  const auto asked = Clock::now();
  (*census)->request(asked + 300ms);
  const auto result = (*census)->wait(in(5s));
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->error.has_value());
  EXPECT_TRUE(result->groups.empty());
  EXPECT_GE(result->started, asked);
  EXPECT_LT(result->finished - asked, 2s);  // its own timeout, not the 5 s wait
}

TEST(GroupCensus, AWaitEndsAtItsDeadlineWhileTheListingRuns) {
  auto census = GroupCensus::create(nowhere(), 1500ms);
  ASSERT_TRUE(census.has_value());
  const auto start = Clock::now();
  (*census)->request(start + 1500ms);
  EXPECT_FALSE((*census)->wait(in(150ms)).has_value());
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, 140ms);
  EXPECT_LT(waited, 1s);
  // A second request while it runs starts nothing new; the running one's
  // answer serves it.
  (*census)->request(Clock::now() + 100ms);
  const auto result = (*census)->wait(in(5s));
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->error.has_value());
  EXPECT_LT(result->started, start + 100ms);
  EXPECT_GE(result->finished - start, 1400ms);  // the first listing's 1.5 s, not the second's 100 ms
}

TEST(GroupCensus, ACancelledWaitReturnsAtOnce) {
  auto census = GroupCensus::create(nowhere(), 1500ms);
  ASSERT_TRUE(census.has_value());
  (*census)->request(Clock::now() + 1500ms);
  std::atomic<bool> cancel{true};
  const auto start = Clock::now();
  (*census)->wait(Deadline{.at = Clock::now() + 5s, .cancel = &cancel});
  EXPECT_LT(Clock::now() - start, 200ms);
  census->reset();
  // Each test is a process of its own (gtest_discover_tests): no listing
  // may run on while its static destructors do.
  wait_until_no_listing_is_abandoned();
}

TEST(GroupCensus, DestructionLeavesARunningListingToFinishAlone) {
  wait_until_no_listing_is_abandoned();  // when the tests share one process
  auto census = GroupCensus::create(nowhere(), 800ms);
  ASSERT_TRUE(census.has_value());
  (*census)->request(Clock::now() + 800ms);
  const auto until = Clock::now() + 5s;
  while (!(*census)->busy() && Clock::now() < until) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE((*census)->busy());  // the worker is inside the listing now
  const auto start = Clock::now();
  census->reset();
  EXPECT_LT(Clock::now() - start, 400ms);  // not the listing's 800 ms
  EXPECT_EQ(GroupCensus::abandoned_listings(), 1);
  wait_until_no_listing_is_abandoned();
  EXPECT_EQ(GroupCensus::abandoned_listings(), 0);  // it ended and closed its handle
}

TEST(GroupCensus, DestructionWhileIdleJoins) {
  auto census = GroupCensus::create(nowhere(), 200ms);
  ASSERT_TRUE(census.has_value());
  (*census)->request(Clock::now() + 200ms);
  ASSERT_TRUE((*census)->wait(in(5s)).has_value());
  wait_until_no_listing_is_abandoned();
  census->reset();
  EXPECT_EQ(GroupCensus::abandoned_listings(), 0);
}

}  // namespace
}  // namespace klag::kafka
