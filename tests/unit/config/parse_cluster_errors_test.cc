// Invalid [[clusters]] input: each error names key, line, reason.
#include <gtest/gtest.h>

#include "test_support.h"

namespace klag::config {
namespace {

using testing::expect_error;
using testing::fake_env;
using testing::kCluster;
using testing::parse_failure;

// kCluster is lines 1-3, so appended keys start at line 4.
std::string cluster_with(std::string_view extra) {
  return std::string(kCluster) + std::string(extra);
}

TEST(ClusterErrors, UnknownKeyInCluster) {
  expect_error(parse_failure(cluster_with("topic_whitelistt = [\".*\"]\n")),
               "clusters[0].topic_whitelistt", 4,
               "unknown key (did you mean \"topic_whitelist\"?)");
  expect_error(parse_failure(cluster_with(
                   "[[clusters]]\nname = \"d\"\nbootstrap_servers = \"k\"\nbootstrap = \"x\"\n")),
               "clusters[1].bootstrap", 7, "unknown key");
}

TEST(ClusterErrors, MissingName) {
  expect_error(parse_failure("[exporter]\n[[clusters]]\nbootstrap_servers = \"k:9092\"\n"),
               "clusters[0].name", 2, "is required");
}

TEST(ClusterErrors, MissingBootstrapServers) {
  expect_error(parse_failure("[[clusters]]\nname = \"c\"\n"), "clusters[0].bootstrap_servers", 1,
               "is required");
}

TEST(ClusterErrors, EmptyNameAndBootstrapServers) {
  auto error =
      parse_failure(cluster_with("[[clusters]]\nname = \"\"\nbootstrap_servers = \"k\"\n"));
  expect_error(error, "clusters[1].name", 5, "must not be empty");
  EXPECT_EQ(error.to_string(), "config error at clusters[1].name (line 5): must not be empty");
  expect_error(parse_failure("[[clusters]]\nname = \"c\"\nbootstrap_servers = \"${B:-}\"\n"),
               "clusters[0].bootstrap_servers", 3, "must not be empty");
}

TEST(ClusterErrors, DuplicateClusterName) {
  expect_error(parse_failure(cluster_with(
                   "\n[[clusters]]\nname = \"c\"\nbootstrap_servers = \"other:9092\"\n")),
               "clusters[1].name", 6, "duplicate cluster name \"c\" (also used by clusters[0])");
}

TEST(ClusterErrors, WrongTypes) {
  expect_error(parse_failure("[[clusters]]\nname = 7\nbootstrap_servers = \"k\"\n"),
               "clusters[0].name", 2, "expected a string, got an integer");
  expect_error(parse_failure(cluster_with("group_whitelist = \".*\"\n")),
               "clusters[0].group_whitelist", 4, "expected an array of strings, got a string");
  expect_error(parse_failure(cluster_with("topic_blacklist = [\"__.*\",\n  42]\n")),
               "clusters[0].topic_blacklist[1]", 5, "expected a string, got an integer");
  expect_error(parse_failure(cluster_with("member_labels = 1\n")), "clusters[0].member_labels", 4,
               "expected a boolean, got an integer");
  expect_error(parse_failure(cluster_with("labels = [\"a\"]\n")), "clusters[0].labels", 4,
               "expected a table, got an array");
}

TEST(ClusterErrors, InvalidRegexNamesPatternPath) {
  auto error = parse_failure(cluster_with("group_whitelist = [\n  \".*\",\n  \"orders(\",\n]\n"));
  expect_error(error, "clusters[0].group_whitelist[1]", 6,
               "invalid regular expression \"orders(\"");
  EXPECT_THAT(error.message, ::testing::HasSubstr("missing )"));
  expect_error(parse_failure(cluster_with("topic_blacklist = [\"[z-a]\"]\n")),
               "clusters[0].topic_blacklist[0]", 4, "invalid regular expression \"[z-a]\"");
}

TEST(ClusterErrors, InvalidLabelName) {
  expect_error(parse_failure(cluster_with("[clusters.labels]\nok = \"1\"\n\"1abc\" = \"x\"\n")),
               "clusters[0].labels.1abc", 6, "invalid label name \"1abc\"");
  expect_error(parse_failure(cluster_with("[clusters.labels]\n__meta = \"x\"\n")),
               "clusters[0].labels.__meta", 5, "not start with \"__\"");
  expect_error(parse_failure(cluster_with("[clusters.labels]\n\"a.b\" = \"x\"\n")),
               "clusters[0].labels.a.b", 5, "invalid label name \"a.b\"");
}

TEST(ClusterErrors, BuiltinLabelCollision) {
  for (const char* name : {"topic", "cluster_name", "group", "partition", "le", "instance"}) {
    SCOPED_TRACE(name);
    expect_error(
        parse_failure(cluster_with(std::string("[clusters.labels]\n") + name + " = \"x\"\n")),
        std::string("clusters[0].labels.") + name, 5,
        std::string("label name \"") + name + "\" collides with a built-in label");
  }
}

TEST(ClusterErrors, LabelValueMustBeString) {
  expect_error(parse_failure(cluster_with("[clusters.labels]\ntier = 1\n")),
               "clusters[0].labels.tier", 5, "expected a string, got an integer");
}

TEST(ClusterErrors, UnsetEnvVarWithoutDefault) {
  auto error = parse_failure(
      cluster_with("[clusters.consumer_properties]\n\"sasl.password\" = \"${KAFKA_PASSWORD}\"\n"));
  expect_error(error, "clusters[0].consumer_properties.sasl.password", 5,
               "environment variable KAFKA_PASSWORD is not set");
  EXPECT_EQ(error.to_string(),
            "config error at clusters[0].consumer_properties.sasl.password (line 5): environment "
            "variable KAFKA_PASSWORD is not set");
}

TEST(ClusterErrors, UnsetEnvVarInArrayElement) {
  expect_error(parse_failure(cluster_with("group_whitelist = [\"a\", \"${PREFIX}.*\"]\n")),
               "clusters[0].group_whitelist[1]", 4, "environment variable PREFIX is not set");
}

TEST(ClusterErrors, UnterminatedReference) {
  expect_error(parse_failure("[[clusters]]\nname = \"c\"\nbootstrap_servers = \"${BROKERS\"\n",
                             fake_env({{"BROKERS", "k"}})),
               "clusters[0].bootstrap_servers", 3, "unterminated \"${BROKERS\"");
}

TEST(ClusterErrors, ConsumerPropertyTypes) {
  expect_error(parse_failure(cluster_with(
                   "[clusters.consumer_properties]\n\"bootstrap.servers\" = [\"a\"]\n")),
               "clusters[0].consumer_properties.bootstrap.servers", 5,
               "expected a string, integer, float or boolean, got an array");
  expect_error(
      parse_failure(cluster_with("[clusters.consumer_properties]\n\"sasl.mechanism\" = \"A\"\n"
                                 "sasl.mechanism = \"B\"\n")),
      "clusters[0].consumer_properties.sasl.mechanism", 6,
      "property \"sasl.mechanism\" is set twice");
}

}  // namespace
}  // namespace klag::config
