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

TEST(ParseDuration, AcceptsTheReferencesHumantimeForms) {
  // The reference exporter reads durations with Rust's humantime.
  EXPECT_EQ(parse_duration("1min").value(), 1min);
  EXPECT_EQ(parse_duration("60sec").value(), 60s);
  EXPECT_EQ(parse_duration("30 s").value(), 30s);
  EXPECT_EQ(parse_duration("1m 30s").value(), 90s);
  EXPECT_EQ(parse_duration("2hours").value(), 2h);
  EXPECT_EQ(parse_duration("1d").value(), 24h);
  EXPECT_EQ(parse_duration("1.5s").value(), 1500ms);
  EXPECT_EQ(parse_duration(" 1h  5min ").value(), 1h + 5min);
  EXPECT_EQ(parse_duration("1hr 2mins 3secs").value(), 1h + 2min + 3s);
  EXPECT_EQ(parse_duration("1hour 1minute 1second").value(), 1h + 1min + 1s);
  EXPECT_EQ(parse_duration("2days 1week").value(), 9 * 24h);
  EXPECT_EQ(parse_duration("250msec").value(), 250ms);
  EXPECT_EQ(parse_duration("250millis").value(), 250ms);
  EXPECT_EQ(parse_duration("1500000us").value(), 1500ms);
  EXPECT_EQ(parse_duration("2000000000ns").value(), 2s);
  EXPECT_EQ(parse_duration("0.25h").value(), 15min);
  EXPECT_EQ(parse_duration("1.0005s").error(),
            "invalid duration \"1.0005s\": finer than a millisecond, the smallest step here");
  // humantime's month and year.
  EXPECT_EQ(parse_duration("1M").value(), std::chrono::seconds(2'630'016));
  EXPECT_EQ(parse_duration("1y").value(), std::chrono::seconds(31'557'600));
}

TEST(ParseDuration, RejectsUnknownUnit) {
  // Units are case-sensitive, as in humantime ("M" is months).
  for (const char* text : {"5S", "5H", "5Min", "1fortnight", "5mn"}) {
    auto result = parse_duration(text);
    ASSERT_FALSE(result) << text;
    EXPECT_NE(result.error().find("unknown unit"), std::string::npos) << result.error();
    EXPECT_NE(result.error().find(text), std::string::npos) << result.error();
  }
  EXPECT_NE(parse_duration("5x").error().find("unknown unit \"x\""), std::string::npos);
}

TEST(ParseDuration, RejectsMalformedText) {
  for (const char* text : {"s", "ms30", "+5s", "5s-1s", "abc", "1.s", ".5s", "1..5s", "5s,1m", "1_000s"}) {
    auto result = parse_duration(text);
    ASSERT_FALSE(result) << text;
    EXPECT_NE(result.error().find(std::string("\"") + text + "\""), std::string::npos)
        << result.error();
  }
  EXPECT_EQ(parse_duration("1.s").error(), "invalid duration \"1.s\": expected digits after \"1.\"");
  EXPECT_NE(parse_duration("   ").error().find("empty"), std::string::npos);
  EXPECT_NE(parse_duration("1.5ns").error().find("finer than a nanosecond"), std::string::npos);
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
