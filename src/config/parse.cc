// Entry points: TOML text or file -> validated Config.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>

#include <spdlog/spdlog.h>

#include "config/reader.h"

namespace klag::config {
namespace {

// Checks that span keys of different tables. `clusters_ok`: every cluster
// parsed, so a name missing from them is really missing.
void check_across_keys(detail::Context& ctx, const Config& config, bool clusters_ok) {
  // A coordination group lives on one of the configured clusters.
  auto check_cluster = [&](bool enabled, const KafkaCoordination& k, const char* key) {
    if (!enabled || k.cluster.empty() || !clusters_ok) return;
    for (const auto& c : config.clusters) {
      if (c.name == k.cluster) return;
    }
    ctx.fail(key, 0, "names no [[clusters]] entry: \"" + k.cluster + "\"");
  };
  const Exporter& ex = config.exporter;
  check_cluster(ex.leadership.enabled && ex.leadership.provider == "kafka", ex.leadership.kafka,
                "exporter.leadership.cluster");
  check_cluster(ex.sharding.enabled, ex.sharding.kafka, "exporter.sharding.cluster");
  if (ex.leadership.enabled && ex.leadership.provider == "kubernetes" && ex.leadership.api_url.empty() &&
      (!ctx.env("KUBERNETES_SERVICE_HOST") || !ctx.env("KUBERNETES_SERVICE_PORT"))) {
    ctx.fail("exporter.leadership.api_url", 0,
             "not set, and KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not in the environment "
             "(not running in a pod?)");
  }
}

}  // namespace

std::expected<Config, ConfigError> parse(std::string_view toml_text, const EnvLookup& env,
                                         std::string_view source) {
  // No exception may escape: toml++ reports syntax errors by throwing, and an
  // injected EnvLookup or an allocation may throw too.
  try {
    toml::table root;
    try {
      root = toml::parse(toml_text, source);
    } catch (const toml::parse_error& e) {
      return std::unexpected(ConfigError{
          "", static_cast<int>(e.source().begin.line),
          "invalid TOML in " + std::string(source) + ": " + std::string(e.description())});
    }
    detail::Context ctx(env);
    Config config;
    detail::TableReader top(ctx, root, "");
    top.reject_unknown({"exporter", "clusters"});
    if (const toml::table* exporter = top.read_table("exporter")) {
      detail::parse_exporter(ctx, *exporter, config.exporter);
    }
    const bool clusters_ok = detail::parse_clusters(ctx, root.get("clusters"), config.clusters);
    check_across_keys(ctx, config, clusters_ok);
    if (ctx.failed()) return std::unexpected(ctx.error());
    config.warnings = ctx.warnings();
    return config;
  } catch (const std::exception& e) {
    return std::unexpected(
        ConfigError{"", 0, "cannot load " + std::string(source) + ": " + e.what()});
  }
}

std::expected<Config, ConfigError> load_file(const std::string& path, const EnvLookup& env) {
  auto fail = [&path](int error) {
    return std::unexpected(ConfigError{"", 0, "cannot read " + path + ": " + std::strerror(error)});
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return fail(errno);
  std::string text;
  char buffer[8192];
  std::size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, count);
  // fopen succeeds on a directory on Linux; the read then fails with EISDIR.
  if (std::ferror(file.get())) return fail(errno);
  auto config = parse(text, env, path);
  // Logged here rather than by the caller so that every load, at start and
  // on reload, shows them; parse() stays free of I/O for tests.
  if (config) {
    for (const ConfigWarning& w : config->warnings) spdlog::warn("{}", w.to_string());
  }
  return config;
}

}  // namespace klag::config
