#include "collect/bootstrap.h"

#include <gtest/gtest.h>

namespace klag::collect {
namespace {

TEST(MergeBootstrap, AppendsLearnedBrokersTheConfiguredListLacks) {
  EXPECT_EQ(merge_bootstrap("a:9092", {"a:9092", "b:9092", "c:9092"}), "a:9092,b:9092,c:9092");
}

TEST(MergeBootstrap, ComparesTrimmedEntriesAndDropsDuplicates) {
  EXPECT_EQ(merge_bootstrap(" a:9092 , b:9092", {"b:9092", "c:9092", "c:9092", " a:9092"}),
            " a:9092 , b:9092,c:9092");
}

TEST(MergeBootstrap, NothingLearnedKeepsTheConfiguredList) {
  EXPECT_EQ(merge_bootstrap("a:9092,b:9092", {}), "a:9092,b:9092");
  EXPECT_EQ(merge_bootstrap("", {"x:1"}), "x:1");
}

TEST(BootstrapCount, CountsNonEmptyAddresses) {
  EXPECT_EQ(bootstrap_count("a:9092"), 1u);
  EXPECT_EQ(bootstrap_count("a:9092, b:9092,"), 2u);
  EXPECT_EQ(bootstrap_count(" , "), 0u);
  EXPECT_EQ(bootstrap_count(""), 0u);
}

}  // namespace
}  // namespace klag::collect
