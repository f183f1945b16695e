// The [exporter] table and its sub-tables.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "config/reader.h"

namespace klag::config::detail {
namespace {

bool is_ip_literal(const std::string& host) {
  in6_addr buffer{};
  return inet_pton(AF_INET, host.c_str(), &buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &buffer) == 1;
}

// `out` holds what `with` holds, followed by `extra`.
std::vector<std::string_view> keys(std::initializer_list<std::string_view> with,
                                   std::span<const std::string_view> extra = {}) {
  std::vector<std::string_view> out(with);
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

void parse_timestamp_sampling(Context& ctx, const toml::table& table, std::string path,
                              TimestampSampling& out) {
  TableReader r(ctx, table, std::move(path));
  r.reject_unknown(keys({"enabled", "cache_ttl", "max_concurrent_fetches", "fetch_timeout"}, kReferenceSamplingKeys));
  r.read_bool("enabled", out.enabled);
  r.read_duration("cache_ttl", out.cache_ttl);
  // Kept in the struct for compatibility; the reference accepts 0 outside
  // its "message" mode.
  if (r.read_int("max_concurrent_fetches", 0, std::numeric_limits<int>::max(), out.max_concurrent_fetches)) {
    r.warn("max_concurrent_fetches",
           "ignored: record timestamps are read in batches on one consumer per cluster, about one Fetch per "
           "broker, so there are no concurrent fetches to limit");
  }
  r.read_duration("fetch_timeout", out.fetch_timeout);
  parse_reference_sampling_keys(r);
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
      ctx.fail(key_path, line_of(*node), "expected a string, got " + std::string(type_name(*node)));
      continue;
    }
    if (auto value = ctx.substitute(text->get(), key_path, line_of(*node))) {
      out.emplace_back(std::string(key->str()), std::move(*value));
    }
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

  // File first, then OTEL_EXPORTER_OTLP_*, then the defaults. False when the
  // file's value was invalid (an error is recorded).
  auto text_setting = [&](std::string_view key, const std::string& env_suffix, std::string& field) {
    if (r.has(key)) return r.read_string(key, field);
    if (auto v = otlp_env(ctx, env_suffix)) field = *v;
    return true;
  };
  const bool endpoint_ok = text_setting("endpoint", "ENDPOINT", out.endpoint);
  const bool protocol_ok = text_setting("protocol", "PROTOCOL", out.protocol);
  bool files_ok = text_setting("ca_file", "CERTIFICATE", out.ca_file);
  files_ok = text_setting("cert_file", "CLIENT_CERTIFICATE", out.cert_file) && files_ok;
  files_ok = text_setting("key_file", "CLIENT_KEY", out.key_file) && files_ok;
  // Values from the environment are only checked when export is on: OTEL_*
  // variables meant for other programs must not stop a disabled exporter.
  const bool check_env = out.enabled;
  if (protocol_ok && !valid_protocol(out.protocol) && (r.has("protocol") || check_env)) {
    ctx.fail(r.has("protocol") ? r.path("protocol") : "env OTEL_EXPORTER_OTLP_PROTOCOL", r.line("protocol"),
             "must be \"grpc\" or \"http/protobuf\", got " + quote(out.protocol));
  }
  if (endpoint_ok && !out.endpoint.starts_with("http://") && !out.endpoint.starts_with("https://") &&
      (r.has("endpoint") || check_env)) {
    ctx.fail(r.has("endpoint") ? r.path("endpoint") : "env OTEL_EXPORTER_OTLP_ENDPOINT", r.line("endpoint"),
             "must start with http:// or https://, got " + quote(out.endpoint));
  }

  if (r.has("timeout")) {
    r.read_duration("timeout", out.timeout);
  } else if (auto v = otlp_env(ctx, "TIMEOUT")) {
    // The specification gives this variable in milliseconds.
    int64_t ms = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), ms);
    if (ec == std::errc() && end == v->data() + v->size() && ms > 0) {
      out.timeout = Duration(ms);
    } else if (check_env) {
      ctx.fail("env OTEL_EXPORTER_OTLP_TIMEOUT", 0, "must be a positive number of milliseconds, got " + quote(*v));
    }
  }

  out.insecure = out.endpoint.starts_with("http://");
  if (r.has("insecure")) {
    r.read_bool("insecure", out.insecure);
  } else if (auto v = otlp_env(ctx, "INSECURE")) {
    out.insecure = *v == "true" || *v == "TRUE" || *v == "1";
  }

  if (const toml::table* headers = r.read_table("headers")) {
    read_headers(ctx, *headers, r.path("headers"), out.headers);
  } else if (!r.has("headers")) {
    if (auto v = otlp_env(ctx, "HEADERS")) out.headers = parse_key_value_list(*v);
  }
  if (files_ok && out.cert_file.empty() != out.key_file.empty()) {
    ctx.fail(r.path(out.cert_file.empty() ? "cert_file" : "key_file"), r.line(),
             "cert_file and key_file must be set together (mutual TLS)");
  }
}

// The keys of a consumer-group coordination, shared by both users of it.
constexpr std::string_view kCoordinationKeys[] = {"cluster", "group", "topic", "session_timeout"};

void read_coordination(TableReader& r, KafkaCoordination& out) {
  r.read_string("cluster", out.cluster);
  if (r.read_string("group", out.group) && out.group.empty()) r.fail("group", "must not be empty");
  if (r.read_string("topic", out.topic) && out.topic.empty()) r.fail("topic", "must not be empty");
  // The broker refuses sessions outside group.min/max.session.timeout.ms
  // (6 s to 30 min by default); a value below 1 s is certainly a mistake.
  if (r.read_duration("session_timeout", out.session_timeout) &&
      (out.session_timeout < std::chrono::seconds(1) || out.session_timeout > std::chrono::minutes(30))) {
    r.fail("session_timeout", "must be between 1s and 30m");
  }
}

void parse_leadership(Context& ctx, const toml::table& table, std::string path, Leadership& out) {
  TableReader r(ctx, table, std::move(path));
  r.reject_unknown(keys({"enabled", "provider", "lease_name", "lease_namespace", "identity", "lease_duration_secs",
                         "grace_period_secs", "api_url", "token_file", "ca_file"},
                        kCoordinationKeys));
  r.read_bool("enabled", out.enabled);
  if (r.read_string("provider", out.provider) && out.provider != "kafka" && out.provider != "kubernetes") {
    r.fail("provider", "must be \"kafka\" or \"kubernetes\", got " + quote(out.provider));
  }
  r.read_string("lease_name", out.lease_name);
  if (r.read_string("lease_namespace", out.lease_namespace) && out.lease_namespace.empty()) {
    // The reference's Helm chart writes lease_namespace = "" unless told a
    // namespace; an empty one would make an invalid Lease URL.
    out.lease_namespace = Leadership{}.lease_namespace;
    if (out.enabled && out.provider == "kubernetes") {
      r.warn("lease_namespace", "empty: the Lease goes to namespace \"" + out.lease_namespace + "\"");
    }
  }
  r.read_string("identity", out.identity);
  // The reference reads these as u32.
  constexpr int64_t kMaxSecs = std::numeric_limits<uint32_t>::max();
  const bool duration_ok = r.read_int("lease_duration_secs", int64_t{1}, kMaxSecs, out.lease_duration_secs) ||
                           !r.has("lease_duration_secs");
  const bool grace_ok =
      r.read_int("grace_period_secs", int64_t{1}, kMaxSecs, out.grace_period_secs) || !r.has("grace_period_secs");
  if (duration_ok && grace_ok && out.grace_period_secs >= out.lease_duration_secs) {
    r.fail("grace_period_secs",
           "must be less than lease_duration_secs (" + std::to_string(out.lease_duration_secs) + ")");
  }
  r.read_string("api_url", out.api_url);
  r.read_string("token_file", out.token_file);
  r.read_string("ca_file", out.ca_file);
  read_coordination(r, out.kafka);
  // The bearer token travels with every request: plain http only to this host.
  const bool loopback_http = out.api_url.starts_with("http://127.0.0.1") ||
                             out.api_url.starts_with("http://localhost") || out.api_url.starts_with("http://[::1]");
  if (!out.api_url.empty() && !out.api_url.starts_with("https://") && !loopback_http) {
    r.fail("api_url", "must start with https:// (http:// only for 127.0.0.1, localhost or [::1]), got " +
                          quote(out.api_url));
  }
}

void parse_sharding(Context& ctx, const toml::table& table, std::string path, Sharding& out) {
  TableReader r(ctx, table, std::move(path));
  r.reject_unknown(keys({"enabled", "identity", "partitions"}, kCoordinationKeys));
  r.read_bool("enabled", out.enabled);
  r.read_string("identity", out.identity);
  r.read_int("partitions", 1, 10000, out.partitions);
  read_coordination(r, out.kafka);
}

// An IP literal, as we write it ("::") or as the reference must (it parses
// "host:port" as a socket address, so IPv6 comes in brackets: "[::]"), or
// "localhost". For that one address is needed to bind, and we take IPv4's
// (what most /etc/hosts list first) rather than resolve, so that the
// address does not depend on the host's resolver; other names stay errors.
bool read_http_host(TableReader& r, std::string& out) {
  std::string host;
  if (!r.read_string("http_host", host)) return false;
  std::string lower = host;
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "localhost") host = "127.0.0.1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    in6_addr buffer{};
    const std::string inner = host.substr(1, host.size() - 2);
    if (inet_pton(AF_INET6, inner.c_str(), &buffer) == 1) host = inner;
  }
  if (!is_ip_literal(host)) {
    r.fail("http_host",
           "must be an IPv4 or IPv6 address literal such as \"0.0.0.0\" or \"::\", or \"localhost\", got " +
               quote(host));
    return false;
  }
  out = host;
  return true;
}

}  // namespace

void parse_exporter(Context& ctx, const toml::table& table, Exporter& out) {
  TableReader r(ctx, table, "exporter");
  r.reject_unknown(keys({"poll_interval", "http_port", "http_host", "granularity", "member_labels", "cycle_timeout",
                         "max_staleness", "timestamp_sampling", "consumer_status", "otel", "leadership", "sharding"},
                        kReferenceExporterKeys));
  r.read_duration("poll_interval", out.poll_interval);
  r.read_int("http_port", uint16_t{0}, std::numeric_limits<uint16_t>::max(), out.http_port);
  read_http_host(r, out.http_host);

  std::string granularity;
  if (r.read_string("granularity", granularity)) {
    if (granularity == "topic") {
      out.granularity = Granularity::topic;
    } else if (granularity == "partition") {
      out.granularity = Granularity::partition;
    } else {
      r.fail("granularity", "must be \"topic\" or \"partition\", got " + quote(granularity));
    }
  }

  r.read_bool("member_labels", out.member_labels);
  r.read_duration("cycle_timeout", out.cycle_timeout);
  r.read_duration("max_staleness", out.max_staleness);
  parse_reference_exporter_keys(ctx, r, out);

  if (const toml::table* sub = r.read_table("timestamp_sampling")) {
    parse_timestamp_sampling(ctx, *sub, r.path("timestamp_sampling"), out.timestamp_sampling);
  }
  if (const toml::table* sub = r.read_table("consumer_status")) {
    parse_consumer_status(ctx, *sub, r.path("consumer_status"), out.consumer_status);
  }
  // Parsed even when the table is absent: OTEL_EXPORTER_OTLP_* still apply.
  const toml::table* otel = r.read_table("otel");
  if (otel != nullptr || !r.has("otel")) parse_otel(ctx, otel, r.path("otel"), out.otel);
  if (const toml::table* sub = r.read_table("leadership")) {
    parse_leadership(ctx, *sub, r.path("leadership"), out.leadership);
  }
  if (const toml::table* sub = r.read_table("sharding")) {
    parse_sharding(ctx, *sub, r.path("sharding"), out.sharding);
  }
  if (out.leadership.enabled && out.sharding.enabled) {
    ctx.fail(r.path("sharding.enabled"), 0,
             "leadership and sharding cannot both be enabled: sharding already spreads the work, and a "
             "replica that dies hands its groups to the others");
  }
}

}  // namespace klag::config::detail
