#include <gtest/gtest.h>

#include <chrono>

#include "config/config.h"

namespace klag::config {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsEachUnit) {
  EXPECT_EQ(parse_duration("500ms").value(), 500ms);
  EXPECT_EQ(parse_duration("30s").value(), 30s);
  EXPECT_EQ(parse_duration("5m").value(), 5min);
  EXPECT_EQ(parse_duration("1h").value(), 1h);
}

TEST(ParseDuration, CombinesParts) {
  EXPECT_EQ(parse_duration("1m30s").value(), 90s);
  EXPECT_EQ(parse_duration("1h2m3s4ms").value(), 1h + 2min + 3s + 4ms);
  EXPECT_EQ(parse_duration("2s500ms").value(), 2500ms);
}

TEST(ParseDuration, AcceptsZeroAndLeadingZeros) {
  // Zero is a valid duration; the config loader rejects it where it must be positive.
  EXPECT_EQ(parse_duration("0s").value(), 0ms);
  EXPECT_EQ(parse_duration("007s").value(), 7s);
}

TEST(ParseDuration, RejectsEmpty) {
  auto result = parse_duration("");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("invalid duration \"\": empty"), std::string::npos)
      << result.error();
}

TEST(ParseDuration, RejectsNegative) {
  auto result = parse_duration("-5s");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), "invalid duration \"-5s\": must not be negative");
}

TEST(ParseDuration, RejectsMissingUnit) {
  auto result = parse_duration("30");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("invalid duration \"30\": missing unit after 30"),
            std::string::npos)
      << result.error();
  EXPECT_FALSE(parse_duration("1m30"));
}

TEST(ParseDuration, RejectsUnknownUnit) {
  for (const char* text : {"5d", "5sec", "5S", "5us", "1w"}) {
    auto result = parse_duration(text);
    ASSERT_FALSE(result) << text;
    EXPECT_NE(result.error().find("unknown unit"), std::string::npos) << result.error();
    EXPECT_NE(result.error().find(text), std::string::npos) << result.error();
  }
  EXPECT_NE(parse_duration("5d").error().find("unknown unit \"d\""), std::string::npos);
}

TEST(ParseDuration, RejectsMalformedText) {
  for (const char* text : {"s", "ms30", " 5s", "5s ", "5 s", "+5s", "1.5s", "5s-1s", "abc"}) {
    auto result = parse_duration(text);
    ASSERT_FALSE(result) << text;
    EXPECT_NE(result.error().find(std::string("\"") + text + "\""), std::string::npos)
        << result.error();
  }
  EXPECT_NE(parse_duration("1.5s").error().find("fractions are not supported"), std::string::npos);
}

TEST(ParseDuration, RejectsOverflow) {
  auto digits = parse_duration("99999999999999999999ms");
  ASSERT_FALSE(digits);
  EXPECT_EQ(digits.error(), "invalid duration \"99999999999999999999ms\": too large");
  auto product = parse_duration("9223372036854775h");
  ASSERT_FALSE(product);
  EXPECT_NE(product.error().find("too large"), std::string::npos);
  auto sum = parse_duration("9223372036854775000ms1s");
  ASSERT_FALSE(sum);
  EXPECT_NE(sum.error().find("too large"), std::string::npos);
  EXPECT_EQ(parse_duration("9223372036854775807ms").value().count(), 9223372036854775807);
}

}  // namespace
}  // namespace klag::config
