// The exporter's configuration: the reference klag-exporter TOML schema plus
// the keys this implementation adds (see docs/config.md).
//
// Plain values only. Loading validates everything up front (durations, regex
// filters, label names, unknown keys), so the rest of the program never sees
// an invalid Config. Immutable after load; safe to read from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace klag::config {

using Duration = std::chrono::milliseconds;

enum class Granularity { topic, partition };

struct TimestampSampling {
  bool enabled = true;
  Duration cache_ttl{std::chrono::seconds(60)};
  int max_concurrent_fetches = 10;
  // Per-cycle deadline for reading message timestamps.
  Duration fetch_timeout{std::chrono::seconds(5)};
};

// [exporter.otel]. Settings the file leaves unset come from the standard
// OTEL_EXPORTER_OTLP_* environment variables (the _METRICS_ variant first),
// then from these defaults.
struct Otel {
  bool enabled = false;
  std::string endpoint = "http://localhost:4317";
  Duration export_interval{std::chrono::seconds(60)};
  std::string protocol = "grpc";  // "grpc" or "http/protobuf"
  std::vector<std::pair<std::string, std::string>> headers;
  Duration timeout{std::chrono::seconds(10)};
  // Plaintext. Defaults to true for http:// endpoints, false for https://.
  bool insecure = true;
  std::string ca_file;    // PEM bundle to verify the receiver; empty: system CAs
  std::string cert_file;  // client certificate (mutual TLS), with key_file
  std::string key_file;
};

// [exporter.leadership]: parsed so reference config files load; HA itself is
// not implemented yet, so enabled = true is rejected at load time.
struct Leadership {
  bool enabled = false;
  std::string provider = "kafka";
  std::string lease_name = "klag-exporter";
  std::string lease_namespace = "default";
  std::string identity;
  int64_t lease_duration_secs = 15;
  int64_t grace_period_secs = 5;
};

struct Exporter {
  Duration poll_interval{std::chrono::seconds(30)};
  uint16_t http_port = 8000;
  std::string http_host = "0.0.0.0";
  Granularity granularity = Granularity::partition;
  // Adds member_host, consumer_id and client_id labels to partition-level
  // group series. They churn on every rebalance; false drops them.
  bool member_labels = true;
  // Deadline of one collection cycle. Default: poll_interval.
  std::optional<Duration> cycle_timeout;
  // How long a failing cluster keeps serving its last good lag data.
  // Default: 3 * poll_interval.
  std::optional<Duration> max_staleness;
  TimestampSampling timestamp_sampling;
  Otel otel;
  Leadership leadership;

  Duration effective_cycle_timeout() const { return cycle_timeout.value_or(poll_interval); }
  Duration effective_max_staleness() const { return max_staleness.value_or(3 * poll_interval); }
};

struct Cluster {
  std::string name;
  std::string bootstrap_servers;
  std::vector<std::string> group_whitelist{".*"};
  std::vector<std::string> group_blacklist;
  std::vector<std::string> topic_whitelist{".*"};
  std::vector<std::string> topic_blacklist{"__.*"};
  // Passed verbatim to librdkafka (security.protocol, sasl.*, ssl.*, ...).
  std::map<std::string, std::string> consumer_properties;
  // Custom labels added to every series of this cluster, in file order.
  std::vector<std::pair<std::string, std::string>> labels;
  // Per-cluster override of exporter.member_labels.
  std::optional<bool> member_labels;
};

struct Config {
  Exporter exporter;
  std::vector<Cluster> clusters;
};

struct ConfigError {
  // Dotted key path, e.g. "clusters[1].group_whitelist[0]"; empty if the
  // error is about the file as a whole (unreadable, TOML syntax).
  std::string key;
  // 1-based line in the file, 0 when unknown.
  int line = 0;
  std::string message;

  // "config error at clusters[1].name (line 12): must not be empty"
  std::string to_string() const;
};

// Looks up an environment variable; nullopt when unset. Injected so tests
// need not touch the real environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// Parses and validates TOML text. `source` names the input in messages.
std::expected<Config, ConfigError> parse(std::string_view toml_text, const EnvLookup& env,
                                         std::string_view source = "config");

// Reads and parses a file.
std::expected<Config, ConfigError> load_file(const std::string& path, const EnvLookup& env);

// Parses "500ms", "30s", "5m", "1h" (and combinations such as "1m30s").
std::expected<Duration, std::string> parse_duration(std::string_view text);

// Replaces ${VAR} and ${VAR:-default} in `text`. An unset VAR without a
// default is an error naming VAR. "$$" is a literal '$'.
std::expected<std::string, std::string> substitute_env(std::string_view text,
                                                       const EnvLookup& env);

// Parses the OpenTelemetry "k1=v1,k2=v2" list format (OTEL_RESOURCE_ATTRIBUTES,
// OTEL_EXPORTER_OTLP_HEADERS): pairs trimmed and percent-decoded; pairs
// without '=' or with an empty key are skipped.
std::vector<std::pair<std::string, std::string>> parse_key_value_list(std::string_view text);

// Prometheus label name rule: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__".
bool is_valid_label_name(std::string_view name);

}  // namespace klag::config
