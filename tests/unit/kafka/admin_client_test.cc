// When a ListGroups fan-out fails the cycle (listing_failed).
#include "kafka/admin_client.h"

#include <gtest/gtest.h>

namespace klag::kafka {
namespace {

TEST(ListingFailed, OnlyWhenEveryKnownBrokerFailed) {
  // Three brokers: two answered with no groups, one failed. An empty
  // listing with a partial error, not a failed cycle.
  EXPECT_FALSE(listing_failed(0, 1, 3));
  EXPECT_FALSE(listing_failed(0, 2, 3));
  EXPECT_TRUE(listing_failed(0, 3, 3));
  // Brokers added since the last metadata answer, all failing.
  EXPECT_TRUE(listing_failed(0, 4, 3));
  // A single broker that failed.
  EXPECT_TRUE(listing_failed(0, 1, 1));
}

TEST(ListingFailed, AnyListedGroupOrNoErrorIsAnAnswer) {
  EXPECT_FALSE(listing_failed(5, 2, 3));
  EXPECT_FALSE(listing_failed(5, 3, 3));
  EXPECT_FALSE(listing_failed(0, 0, 3));  // a cluster without groups
  EXPECT_FALSE(listing_failed(0, 0, 0));
}

TEST(ListingFailed, WithoutMetadataYetNothingListedAndAnErrorFails) {
  // The first cycle: no broker can be shown to have answered.
  EXPECT_TRUE(listing_failed(0, 1, 0));
  EXPECT_FALSE(listing_failed(2, 1, 0));
}

}  // namespace
}  // namespace klag::kafka
