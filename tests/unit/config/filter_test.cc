#include "config/filter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace klag::config {
namespace {

NameFilter make(const std::vector<std::string>& allow, const std::vector<std::string>& deny) {
  auto filter = NameFilter::create(allow, deny);
  EXPECT_TRUE(filter) << filter.error();
  return std::move(filter).value();
}

TEST(NameFilter, PatternsAreAnchored) {
  auto exact = make({"orders"}, {});
  EXPECT_TRUE(exact.matches("orders"));
  EXPECT_FALSE(exact.matches("orders-v2"));
  EXPECT_FALSE(exact.matches("old-orders"));

  auto prefix = make({"orders.*"}, {});
  EXPECT_TRUE(prefix.matches("orders"));
  EXPECT_TRUE(prefix.matches("orders-v2"));
  EXPECT_FALSE(prefix.matches("old-orders"));
}

TEST(NameFilter, ExplicitAnchorsStillWork) {
  auto filter = make({"^orders-.*$"}, {});
  EXPECT_TRUE(filter.matches("orders-1"));
  EXPECT_FALSE(filter.matches("x-orders-1"));
}

TEST(NameFilter, DenyWinsOverAllow) {
  auto filter = make({".*"}, {"__.*", "orders-test.*"});
  EXPECT_TRUE(filter.matches("orders"));
  EXPECT_TRUE(filter.matches("payments"));
  EXPECT_FALSE(filter.matches("__consumer_offsets"));
  EXPECT_FALSE(filter.matches("orders-test-7"));
  EXPECT_TRUE(filter.matches("x__y"));  // deny is anchored too
}

TEST(NameFilter, EmptyAllowListPassesNothing) {
  auto filter = make({}, {});
  EXPECT_FALSE(filter.matches("orders"));
  EXPECT_FALSE(filter.matches(""));
}

TEST(NameFilter, EmptyDenyListDeniesNothing) {
  auto filter = make({".*"}, {});
  EXPECT_TRUE(filter.matches("__consumer_offsets"));
  EXPECT_TRUE(filter.matches(""));
}

TEST(NameFilter, MultiplePatternsAreAlternatives) {
  auto filter = make({"orders", "payments-.*", "a|b"}, {"payments-dlq"});
  EXPECT_TRUE(filter.matches("orders"));
  EXPECT_TRUE(filter.matches("payments-eu"));
  EXPECT_TRUE(filter.matches("a"));
  EXPECT_TRUE(filter.matches("b"));
  EXPECT_FALSE(filter.matches("ab"));
  EXPECT_FALSE(filter.matches("payments-dlq"));
  EXPECT_FALSE(filter.matches("shipping"));
}

TEST(NameFilter, InvalidPatternIsNamedWithReason) {
  auto filter = NameFilter::create({".*", "orders("}, {});
  ASSERT_FALSE(filter);
  EXPECT_NE(filter.error().find("invalid regular expression \"orders(\""), std::string::npos)
      << filter.error();
  EXPECT_NE(filter.error().find("missing )"), std::string::npos) << filter.error();

  auto deny = NameFilter::create({".*"}, {"[z-a]"});
  ASSERT_FALSE(deny);
  EXPECT_NE(deny.error().find("\"[z-a]\""), std::string::npos) << deny.error();
}

TEST(NameFilter, ConcurrentMatchingFromConstObject) {
  const NameFilter filter = make({"orders-.*"}, {"orders-test"});
  std::vector<std::thread> threads;
  std::vector<int> hits(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        hits[t] += filter.matches("orders-" + std::to_string(i)) ? 1 : 0;
        hits[t] += filter.matches("orders-test") ? 1 : 0;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int count : hits) EXPECT_EQ(count, 1000);
}

TEST(NameFilter, CopiesShareCompiledPatterns) {
  auto filter = make({"a.*"}, {});
  NameFilter copy = filter;
  EXPECT_TRUE(copy.matches("abc"));
  EXPECT_FALSE(copy.matches("bc"));
}

}  // namespace
}  // namespace klag::config
