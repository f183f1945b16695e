#include "collect/timestamp_cache.h"

#include <gtest/gtest.h>

namespace klag::collect {
namespace {

using std::chrono::seconds;
using Key = TimestampCache::Key;

TEST(TimestampCache, HitReturnsTheStoredSample) {
  TimestampCache cache(seconds(60), 100);
  const auto t0 = TimestampCache::Clock::now();
  EXPECT_FALSE(cache.lookup({"t", 0, 5}, t0));
  cache.insert({"t", 0, 5}, {.timestamp_ms = 1234, .returned_offset = 7}, t0);
  auto hit = cache.lookup({"t", 0, 5}, t0);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->timestamp_ms, 1234);
  EXPECT_EQ(hit->returned_offset, 7);
  EXPECT_FALSE(cache.lookup({"t", 0, 6}, t0));
  EXPECT_FALSE(cache.lookup({"t", 1, 5}, t0));
  EXPECT_FALSE(cache.lookup({"u", 0, 5}, t0));
}

TEST(TimestampCache, EntriesExpireOnlyWhenNotNeededForTheTtl) {
  TimestampCache cache(seconds(60), 100);
  const auto t0 = TimestampCache::Clock::now();
  cache.insert({"t", 0, 1}, {1, 1}, t0);
  cache.insert({"t", 0, 2}, {2, 2}, t0);
  // Entry 1 is needed again at t0+50s; entry 2 is not.
  EXPECT_TRUE(cache.lookup({"t", 0, 1}, t0 + seconds(50)));
  EXPECT_EQ(cache.expire(t0 + seconds(61)), 1u);
  EXPECT_TRUE(cache.lookup({"t", 0, 1}, t0 + seconds(61)));
  EXPECT_FALSE(cache.lookup({"t", 0, 2}, t0 + seconds(61)));
}

TEST(TimestampCache, SizeIsBoundedDroppingTheLeastRecentlyNeeded) {
  TimestampCache cache(seconds(600), 3);
  const auto t0 = TimestampCache::Clock::now();
  for (int i = 0; i < 5; ++i) cache.insert({"t", 0, i}, {i, i}, t0 + seconds(i));
  EXPECT_EQ(cache.expire(t0 + seconds(5)), 2u);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.lookup({"t", 0, 0}, t0 + seconds(5)));
  EXPECT_FALSE(cache.lookup({"t", 0, 1}, t0 + seconds(5)));
  EXPECT_TRUE(cache.lookup({"t", 0, 4}, t0 + seconds(5)));
}

}  // namespace
}  // namespace klag::collect
