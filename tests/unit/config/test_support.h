// Shared helpers for the config unit tests.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace klag::config::testing {

// An environment backed by a map, so tests never touch the real one.
inline EnvLookup fake_env(std::map<std::string, std::string> vars = {}) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// One valid cluster; appended to exporter-only snippets. Three lines.
inline constexpr std::string_view kCluster =
    "[[clusters]]\nname = \"c\"\nbootstrap_servers = \"k:9092\"\n";

inline std::string data_path(std::string_view name) {
  return std::string(KLAG_TEST_DATA_DIR) + "/config/" + std::string(name);
}

// Parses text that must be rejected and returns the error.
inline ConfigError parse_failure(std::string_view text, const EnvLookup& env = fake_env()) {
  auto result = parse(text, env);
  if (result) {
    ADD_FAILURE() << "expected a config error for:\n" << text;
    return {};
  }
  return result.error();
}

// Asserts where an error points and what it says.
inline void expect_error(const ConfigError& error, std::string_view key, int line,
                         std::string_view fragment) {
  EXPECT_EQ(error.key, key) << error.to_string();
  EXPECT_EQ(error.line, line) << error.to_string();
  EXPECT_THAT(error.message, ::testing::HasSubstr(std::string(fragment))) << error.to_string();
}

inline Config parse_ok(std::string_view text, const EnvLookup& env = fake_env()) {
  auto result = parse(text, env);
  if (!result) {
    ADD_FAILURE() << result.error().to_string() << "\nfor:\n" << text;
    return {};
  }
  return *result;
}

}  // namespace klag::config::testing
