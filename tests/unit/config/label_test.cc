#include <gtest/gtest.h>

#include "config/config.h"

namespace klag::config {
namespace {

TEST(LabelName, AcceptsPrometheusNames) {
  for (const char* name : {"env", "_private", "a1", "Environment_2", "x"}) {
    EXPECT_TRUE(is_valid_label_name(name)) << name;
  }
}

TEST(LabelName, RejectsInvalidNames) {
  for (const char* name :
       {"", "1abc", "has-dash", "has.dot", "has space", "__reserved", "__", "é"}) {
    EXPECT_FALSE(is_valid_label_name(name)) << name;
  }
}

TEST(ConfigErrorText, IncludesKeyAndLineWhenKnown) {
  EXPECT_EQ((ConfigError{"clusters[1].name", 12, "must not be empty"}).to_string(),
            "config error at clusters[1].name (line 12): must not be empty");
  EXPECT_EQ((ConfigError{"clusters", 0, "at least one"}).to_string(),
            "config error at clusters: at least one");
  EXPECT_EQ((ConfigError{"", 3, "invalid TOML"}).to_string(),
            "config error (line 3): invalid TOML");
  EXPECT_EQ((ConfigError{"", 0, "cannot read x"}).to_string(), "config error: cannot read x");
}

}  // namespace
}  // namespace klag::config
