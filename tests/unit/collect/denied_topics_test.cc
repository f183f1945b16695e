#include "collect/denied_topics.h"

#include <gtest/gtest.h>

namespace klag::collect {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TEST(DeniedTopics, ADeniedTopicIsSkippedUntilTheRetry) {
  DeniedTopics denied(minutes(5));
  const auto t0 = DeniedTopics::Clock::now();
  EXPECT_FALSE(denied.skip("t", t0));
  EXPECT_TRUE(denied.record_denied("t", t0));
  EXPECT_TRUE(denied.skip("t", t0));
  EXPECT_TRUE(denied.skip("t", t0 + seconds(299)));
  EXPECT_FALSE(denied.skip("u", t0 + seconds(1)));
  EXPECT_FALSE(denied.skip("t", t0 + seconds(300)));
}

TEST(DeniedTopics, ADenialIsNewsOncePerRetryPeriod) {
  DeniedTopics denied(minutes(5));
  const auto t0 = DeniedTopics::Clock::now();
  EXPECT_TRUE(denied.record_denied("t", t0));
  // Its other partitions, in the same round or a later one of the cycle.
  EXPECT_FALSE(denied.record_denied("t", t0));
  EXPECT_FALSE(denied.record_denied("t", t0 + seconds(2)));
  EXPECT_TRUE(denied.record_denied("u", t0 + seconds(2)));
  // Tried again after the skip period: still denied, reported again.
  EXPECT_TRUE(denied.record_denied("t", t0 + seconds(302)));
  EXPECT_TRUE(denied.skip("t", t0 + seconds(303)));
  EXPECT_FALSE(denied.record_denied("t", t0 + seconds(303)));
}

TEST(DeniedTopics, ReadingTheTopicForgetsTheDenial) {
  DeniedTopics denied(minutes(5));
  const auto t0 = DeniedTopics::Clock::now();
  EXPECT_FALSE(denied.record_read("t"));
  denied.record_denied("t", t0);
  // Read granted: the retry after the skip period succeeds.
  EXPECT_TRUE(denied.record_read("t"));
  EXPECT_FALSE(denied.record_read("t"));
  EXPECT_FALSE(denied.skip("t", t0 + seconds(1)));
  EXPECT_EQ(denied.size(), 0u);
  // Denied again later (Read revoked): news again.
  EXPECT_TRUE(denied.record_denied("t", t0 + seconds(10)));
}

TEST(DeniedTopics, TopicsNoLongerDeniedAreForgotten) {
  DeniedTopics denied(minutes(5));
  const auto t0 = DeniedTopics::Clock::now();
  denied.record_denied("old", t0);
  denied.record_denied("recent", t0 + minutes(6));
  denied.expire(t0 + minutes(10));
  // "old" was not even tried for two periods (its topic deleted, or no
  // group lags on it any more): gone. "recent" stays.
  EXPECT_EQ(denied.size(), 1u);
  EXPECT_FALSE(denied.record_read("old"));
  EXPECT_TRUE(denied.record_read("recent"));
}

}  // namespace
}  // namespace klag::collect
