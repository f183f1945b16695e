#include <gtest/gtest.h>

#include <cstdlib>

#include "test_support.h"

namespace klag::config {
namespace {

using testing::fake_env;

std::string substitute_ok(std::string_view text, const EnvLookup& env) {
  auto result = substitute_env(text, env);
  EXPECT_TRUE(result) << result.error();
  return result.value_or("<error>");
}

TEST(SubstituteEnv, ReplacesSetVariables) {
  auto env = fake_env({{"USER", "alice"}, {"HOST", "kafka"}});
  EXPECT_EQ(substitute_ok("${USER}", env), "alice");
  EXPECT_EQ(substitute_ok("${HOST}:9092,${HOST}-2:9092", env), "kafka:9092,kafka-2:9092");
  EXPECT_EQ(substitute_ok("no references", env), "no references");
}

TEST(SubstituteEnv, QuestionMarkMakesAVariableOptional) {
  // The reference's ${?VAR}: "" when unset, instead of our error.
  auto env = fake_env({{"SET", "value"}});
  EXPECT_EQ(substitute_ok("a${?MISSING}b", env), "ab");
  EXPECT_EQ(substitute_ok("${?SET}", env), "value");
  EXPECT_EQ(substitute_ok("${?MISSING:-fallback}", env), "fallback");
  EXPECT_FALSE(substitute_env("${?}", env));
  EXPECT_FALSE(substitute_env("${?1X}", env));
}

TEST(SubstituteEnv, UsesDefaultWhenUnsetOrEmpty) {
  auto env = fake_env({{"SET", "value"}, {"EMPTY", ""}});
  EXPECT_EQ(substitute_ok("${MISSING:-fallback}", env), "fallback");
  EXPECT_EQ(substitute_ok("${SET:-fallback}", env), "value");
  EXPECT_EQ(substitute_ok("${EMPTY:-fallback}", env), "fallback");
  EXPECT_EQ(substitute_ok("${MISSING:-}", env), "");
  EXPECT_EQ(substitute_ok("${MISSING:-a:-b $x}", env), "a:-b $x");
}

TEST(SubstituteEnv, SetButEmptyWithoutDefaultIsEmpty) {
  EXPECT_EQ(substitute_ok("[${EMPTY}]", fake_env({{"EMPTY", ""}})), "[]");
}

TEST(SubstituteEnv, DollarEscapesAndLoneDollars) {
  auto env = fake_env({{"X", "1"}});
  EXPECT_EQ(substitute_ok("$$", env), "$");
  EXPECT_EQ(substitute_ok("$${X}", env), "${X}");
  EXPECT_EQ(substitute_ok("cost $5", env), "cost $5");
  EXPECT_EQ(substitute_ok("ends with $", env), "ends with $");
  EXPECT_EQ(substitute_ok("$X", env), "$X");
  EXPECT_EQ(substitute_ok("$$$", env), "$$");
}

TEST(SubstituteEnv, ValuesAreNotReexpanded) {
  auto env = fake_env({{"A", "${B}"}, {"B", "no"}});
  EXPECT_EQ(substitute_ok("${A}", env), "${B}");
}

TEST(SubstituteEnv, UnsetWithoutDefaultNamesTheVariable) {
  auto result = substitute_env("x${KAFKA_PASSWORD}y", fake_env());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), "environment variable KAFKA_PASSWORD is not set");
}

TEST(SubstituteEnv, UnterminatedReference) {
  auto result = substitute_env("a${BROKERS", fake_env({{"BROKERS", "b"}}));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("unterminated \"${BROKERS\""), std::string::npos) << result.error();
}

TEST(SubstituteEnv, InvalidVariableNames) {
  for (const char* text : {"${}", "${1X}", "${A B}", "${A:default}", "${:-x}"}) {
    auto result = substitute_env(text, fake_env());
    ASSERT_FALSE(result) << text;
    EXPECT_NE(result.error().find("invalid environment variable name"), std::string::npos)
        << result.error();
  }
}

TEST(ProcessEnv, ReadsTheRealEnvironment) {
  ::setenv("KLAG_CONFIG_TEST_VAR", "from-process", 1);
  ::unsetenv("KLAG_CONFIG_TEST_UNSET");
  EnvLookup env = process_env();
  EXPECT_EQ(env("KLAG_CONFIG_TEST_VAR"), "from-process");
  EXPECT_EQ(env("KLAG_CONFIG_TEST_UNSET"), std::nullopt);
  EXPECT_EQ(substitute_env("${KLAG_CONFIG_TEST_VAR}", env).value(), "from-process");
  ::unsetenv("KLAG_CONFIG_TEST_VAR");
}

}  // namespace
}  // namespace klag::config
