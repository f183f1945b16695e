// The [exporter] table and its sub-tables.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <limits>

#include "config/reader.h"

namespace klag::config::detail {
namespace {

bool is_ip_literal(const std::string& host) {
  in6_addr buffer{};
  return inet_pton(AF_INET, host.c_str(), &buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &buffer) == 1;
}

void parse_timestamp_sampling(Context& ctx, const toml::table& table, std::string path,
                              TimestampSampling& out) {
  TableReader r(ctx, table, std::move(path));
  r.reject_unknown({"enabled", "cache_ttl", "max_concurrent_fetches", "fetch_timeout"});
  r.read_bool("enabled", out.enabled);
  r.read_duration("cache_ttl", out.cache_ttl);
  r.read_int("max_concurrent_fetches", 1, std::numeric_limits<int>::max(),
             out.max_concurrent_fetches);
  r.read_duration("fetch_timeout", out.fetch_timeout);
}

void parse_consumer_status(Context& ctx, const toml::table& table, std::string path, ConsumerStatus& out) {
  TableReader r(ctx, table, std::move(path));
  r.reject_unknown({"enabled", "window", "min_lag", "partition_status"});
  r.read_bool("enabled", out.enabled);
  r.read_bool("partition_status", out.partition_status);
  // Two observations are the least that show movement; the cap bounds the
  // memory each partition's history takes (16 bytes per observation, twice
  // that while a cycle's window is built).
  r.read_int("window", 2, 100, out.window);
  r.read_int("min_lag", 1, std::numeric_limits<int64_t>::max(), out.min_lag);
}

void read_headers(Context& ctx, const toml::table& table, const std::string& path,
                  std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& [key, node] : entries_in_file_order(table)) {
    const std::string key_path = join_key(path, key->str());
    const auto* text = node->as_string();
    if (text == nullptr) {
      return ctx.fail(key_path, line_of(*node), "expected a string, got " + std::string(type_name(*node)));
    }
    auto value = ctx.substitute(text->get(), key_path, line_of(*node));
    if (!value) return;
    out.emplace_back(std::string(key->str()), std::move(*value));
  }
}

// The signal-specific variable wins over the general one.
std::optional<std::string> otlp_env(const Context& ctx, const std::string& suffix) {
  if (auto v = ctx.env("OTEL_EXPORTER_OTLP_METRICS_" + suffix)) return v;
  return ctx.env("OTEL_EXPORTER_OTLP_" + suffix);
}

bool valid_protocol(const std::string& p) { return p == "grpc" || p == "http/protobuf"; }

void parse_otel(Context& ctx, const toml::table* table, std::string path, Otel& out) {
  static const toml::table kEmpty;
  TableReader r(ctx, table ? *table : kEmpty, path);
  r.reject_unknown({"enabled", "endpoint", "export_interval", "protocol", "headers", "timeout", "insecure",
                    "ca_file", "cert_file", "key_file"});
  r.read_bool("enabled", out.enabled);
  r.read_duration("export_interval", out.export_interval);

  // File first, then OTEL_EXPORTER_OTLP_*, then the defaults.
  auto text_setting = [&](std::string_view key, const std::string& env_suffix, std::string& field) {
    if (r.has(key)) {
      r.read_string(key, field);
    } else if (auto v = otlp_env(ctx, env_suffix)) {
      field = *v;
    }
  };
  text_setting("endpoint", "ENDPOINT", out.endpoint);
  text_setting("protocol", "PROTOCOL", out.protocol);
  text_setting("ca_file", "CERTIFICATE", out.ca_file);
  text_setting("cert_file", "CLIENT_CERTIFICATE", out.cert_file);
  text_setting("key_file", "CLIENT_KEY", out.key_file);
  if (ctx.failed()) return;
  // Values from the environment are only checked when export is on: OTEL_*
  // variables meant for other programs must not stop a disabled exporter.
  const bool check_env = out.enabled;
  if (!valid_protocol(out.protocol) && (r.has("protocol") || check_env)) {
    return ctx.fail(r.has("protocol") ? r.path("protocol") : "env OTEL_EXPORTER_OTLP_PROTOCOL", r.line("protocol"),
                    "must be \"grpc\" or \"http/protobuf\", got " + quote(out.protocol));
  }
  if (!out.endpoint.starts_with("http://") && !out.endpoint.starts_with("https://") &&
      (r.has("endpoint") || check_env)) {
    return ctx.fail(r.has("endpoint") ? r.path("endpoint") : "env OTEL_EXPORTER_OTLP_ENDPOINT", r.line("endpoint"),
                    "must start with http:// or https://, got " + quote(out.endpoint));
  }

  if (r.has("timeout")) {
    r.read_duration("timeout", out.timeout);
  } else if (auto v = otlp_env(ctx, "TIMEOUT")) {
    // The specification gives this variable in milliseconds.
    int64_t ms = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), ms);
    if (ec != std::errc() || end != v->data() + v->size() || ms <= 0) {
      if (!check_env) return;
      return ctx.fail("env OTEL_EXPORTER_OTLP_TIMEOUT", 0, "must be a positive number of milliseconds, got " + quote(*v));
    }
    out.timeout = Duration(ms);
  }

  out.insecure = out.endpoint.starts_with("http://");
  if (r.has("insecure")) {
    r.read_bool("insecure", out.insecure);
  } else if (auto v = otlp_env(ctx, "INSECURE")) {
    out.insecure = *v == "true" || *v == "TRUE" || *v == "1";
  }

  if (const toml::table* headers = r.read_table("headers")) {
    read_headers(ctx, *headers, r.path("headers"), out.headers);
  } else if (auto v = otlp_env(ctx, "HEADERS")) {
    out.headers = parse_key_value_list(*v);
  }
  if (ctx.failed()) return;
  if (out.cert_file.empty() != out.key_file.empty()) {
    return ctx.fail(r.path(out.cert_file.empty() ? "cert_file" : "key_file"), r.line(),
                    "cert_file and key_file must be set together (mutual TLS)");
  }
}

// The keys of a consumer-group coordination, shared by both users of it.
constexpr std::string_view kCoordinationKeys[] = {"cluster", "group", "topic", "session_timeout"};

void read_coordination(Context& ctx, TableReader& r, KafkaCoordination& out) {
  r.read_string("cluster", out.cluster);
  r.read_string("group", out.group);
  r.read_string("topic", out.topic);
  r.read_duration("session_timeout", out.session_timeout);
  if (ctx.failed()) return;
  if (out.group.empty()) return ctx.fail(r.path("group"), r.line("group"), "must not be empty");
  if (out.topic.empty()) return ctx.fail(r.path("topic"), r.line("topic"), "must not be empty");
  // The broker refuses sessions outside group.min/max.session.timeout.ms
  // (6 s to 30 min by default); a value below 1 s is certainly a mistake.
  if (out.session_timeout < std::chrono::seconds(1) || out.session_timeout > std::chrono::minutes(30)) {
    return ctx.fail(r.path("session_timeout"), r.line("session_timeout"), "must be between 1s and 30m");
  }
}

void parse_leadership(Context& ctx, const toml::table& table, std::string path, Leadership& out) {
  TableReader r(ctx, table, std::move(path));
  std::vector<std::string_view> keys = {"enabled", "provider", "lease_name", "lease_namespace", "identity",
                                        "lease_duration_secs", "grace_period_secs", "api_url", "token_file",
                                        "ca_file"};
  keys.insert(keys.end(), std::begin(kCoordinationKeys), std::end(kCoordinationKeys));
  r.reject_unknown(keys);
  r.read_bool("enabled", out.enabled);
  r.read_string("provider", out.provider);
  if (!ctx.failed() && out.provider != "kafka" && out.provider != "kubernetes") {
    ctx.fail(r.path("provider"), r.line("provider"),
             "must be \"kafka\" or \"kubernetes\", got " + quote(out.provider));
  }
  r.read_string("lease_name", out.lease_name);
  r.read_string("lease_namespace", out.lease_namespace);
  r.read_string("identity", out.identity);
  // The reference reads these as u32.
  constexpr int64_t kMaxSecs = std::numeric_limits<uint32_t>::max();
  r.read_int("lease_duration_secs", int64_t{1}, kMaxSecs, out.lease_duration_secs);
  r.read_int("grace_period_secs", int64_t{1}, kMaxSecs, out.grace_period_secs);
  r.read_string("api_url", out.api_url);
  r.read_string("token_file", out.token_file);
  r.read_string("ca_file", out.ca_file);
  read_coordination(ctx, r, out.kafka);
  if (ctx.failed()) return;
  if (out.grace_period_secs >= out.lease_duration_secs) {
    return ctx.fail(r.path("grace_period_secs"), r.line("grace_period_secs"),
                    "must be less than lease_duration_secs (" + std::to_string(out.lease_duration_secs) + ")");
  }
  // The bearer token travels with every request: plain http only to this host.
  const bool loopback_http = out.api_url.starts_with("http://127.0.0.1") ||
                             out.api_url.starts_with("http://localhost") || out.api_url.starts_with("http://[::1]");
  if (!out.api_url.empty() && !out.api_url.starts_with("https://") && !loopback_http) {
    return ctx.fail(r.path("api_url"), r.line("api_url"),
                    "must start with https:// (http:// only for 127.0.0.1, localhost or [::1]), got " +
                        quote(out.api_url));
  }
}

void parse_sharding(Context& ctx, const toml::table& table, std::string path, Sharding& out) {
  TableReader r(ctx, table, std::move(path));
  std::vector<std::string_view> keys = {"enabled", "identity", "partitions"};
  keys.insert(keys.end(), std::begin(kCoordinationKeys), std::end(kCoordinationKeys));
  r.reject_unknown(keys);
  r.read_bool("enabled", out.enabled);
  r.read_string("identity", out.identity);
  r.read_int("partitions", 1, 10000, out.partitions);
  read_coordination(ctx, r, out.kafka);
}

}  // namespace

void parse_exporter(Context& ctx, const toml::table& table, Exporter& out) {
  TableReader r(ctx, table, "exporter");
  r.reject_unknown({"poll_interval", "http_port", "http_host", "granularity", "member_labels",
                    "cycle_timeout", "max_staleness", "timestamp_sampling", "consumer_status", "otel", "leadership",
                    "sharding"});
  r.read_duration("poll_interval", out.poll_interval);
  r.read_int("http_port", uint16_t{0}, std::numeric_limits<uint16_t>::max(), out.http_port);

  r.read_string("http_host", out.http_host);
  if (!ctx.failed() && !is_ip_literal(out.http_host)) {
    ctx.fail(r.path("http_host"), r.line("http_host"),
             "must be an IPv4 or IPv6 address literal such as \"0.0.0.0\" or \"::\", got " +
                 quote(out.http_host));
  }

  std::string granularity;
  r.read_string("granularity", granularity);
  if (granularity == "topic") {
    out.granularity = Granularity::topic;
  } else if (granularity == "partition") {
    out.granularity = Granularity::partition;
  } else if (!ctx.failed() && r.has("granularity")) {
    ctx.fail(r.path("granularity"), r.line("granularity"),
             "must be \"topic\" or \"partition\", got " + quote(granularity));
  }

  r.read_bool("member_labels", out.member_labels);
  r.read_duration("cycle_timeout", out.cycle_timeout);
  r.read_duration("max_staleness", out.max_staleness);

  if (const toml::table* sub = r.read_table("timestamp_sampling")) {
    parse_timestamp_sampling(ctx, *sub, r.path("timestamp_sampling"), out.timestamp_sampling);
  }
  if (const toml::table* sub = r.read_table("consumer_status")) {
    parse_consumer_status(ctx, *sub, r.path("consumer_status"), out.consumer_status);
  }
  // Parsed even when the table is absent: OTEL_EXPORTER_OTLP_* still apply.
  parse_otel(ctx, r.read_table("otel"), r.path("otel"), out.otel);
  if (const toml::table* sub = r.read_table("leadership")) {
    parse_leadership(ctx, *sub, r.path("leadership"), out.leadership);
  }
  if (const toml::table* sub = r.read_table("sharding")) {
    parse_sharding(ctx, *sub, r.path("sharding"), out.sharding);
  }
  if (!ctx.failed() && out.leadership.enabled && out.sharding.enabled) {
    ctx.fail(r.path("sharding.enabled"), 0,
             "leadership and sharding cannot both be enabled: sharding already spreads the work, and a "
             "replica that dies hands its groups to the others");
  }
}

}  // namespace klag::config::detail
