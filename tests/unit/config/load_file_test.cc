#include <gtest/gtest.h>

#include "test_support.h"

namespace klag::config {
namespace {

using testing::data_path;
using testing::fake_env;

TEST(LoadFile, MissingFileNamesPathAndReason) {
  const std::string path = data_path("does-not-exist.toml");
  auto result = load_file(path, fake_env());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().key, "");
  EXPECT_EQ(result.error().line, 0);
  EXPECT_EQ(result.error().message, "cannot read " + path + ": No such file or directory");
}

TEST(LoadFile, DirectoryIsUnreadable) {
  const std::string path = std::string(KLAG_TEST_DATA_DIR) + "/config";
  auto result = load_file(path, fake_env());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "cannot read " + path + ": Is a directory");
}

TEST(LoadFile, SyntaxErrorNamesThePath) {
  const std::string path = data_path("syntax_error.toml");
  auto result = load_file(path, fake_env());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().key, "");
  EXPECT_EQ(result.error().line, 3);
  EXPECT_THAT(result.error().message, ::testing::HasSubstr("invalid TOML in " + path));
}

TEST(LoadFile, ValidationErrorHasKeyAndLine) {
  auto result = load_file(data_path("unknown_key.toml"), fake_env());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().to_string(),
            "config error at clusters[0].topic_whitelistt (line 5): unknown key (did you mean "
            "\"topic_whitelist\"?)");
}

}  // namespace
}  // namespace klag::config
