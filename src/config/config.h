// The exporter's configuration: the reference klag-exporter TOML schema plus
// the keys this implementation adds (see docs/config.md).
//
// Plain values only. Loading validates everything up front (durations, regex
// filters, label names, unknown keys), so the rest of the program never sees
// an invalid Config. Keys of the reference exporter that have no effect here
// load with a warning (Config::warnings). Immutable after load; safe to read
// from any thread.
#pragma once

#include <algorithm>
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
  bool operator==(const TimestampSampling&) const = default;
};

// [exporter.consumer_status]: rates, time to catch up and Burrow-style
// status from a short history of each partition (docs/status.md).
struct ConsumerStatus {
  bool enabled = true;
  // Observations (one per successful cycle) a status looks at; rates span
  // the same window.
  int64_t window = 10;
  // Lag below this counts as caught up.
  int64_t min_lag = 1;
  // kafka_consumergroup_partition_status at partition granularity: six
  // series per group partition; false keeps only the group status.
  bool partition_status = true;
  bool operator==(const ConsumerStatus&) const = default;
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
  bool operator==(const Otel&) const = default;
};

// How replicas coordinate through a consumer group on one of the configured
// clusters (leader election with provider "kafka", and sharding).
struct KafkaCoordination {
  // Name of the [[clusters]] entry whose brokers (and consumer_properties,
  // for authentication) host the group. Empty: the first cluster.
  std::string cluster;
  std::string group;
  std::string topic;
  // The broker drops a silent member after this; it bounds failover.
  Duration session_timeout{std::chrono::seconds(10)};
  bool operator==(const KafkaCoordination&) const = default;
};

// [exporter.leadership]: active/standby replicas. The reference's keys plus
// `provider` and the coordination settings of each provider.
struct Leadership {
  bool enabled = false;
  std::string provider = "kafka";  // "kafka" or "kubernetes"
  // Names this replica to the other ones (Lease holderIdentity, Kafka
  // client.id). Empty: $POD_NAME, else hostname-pid.
  std::string identity;
  KafkaCoordination kafka{.group = "klag-exporter-leader", .topic = "__klag_exporter_leader"};
  // provider = "kubernetes": a coordination.k8s.io/v1 Lease.
  std::string lease_name = "klag-exporter";
  std::string lease_namespace = "default";
  int64_t lease_duration_secs = 15;
  // A leader that could not renew steps down this long before its lease
  // expires, so two replicas never publish at once.
  int64_t grace_period_secs = 5;
  // API server base URL; empty: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT.
  std::string api_url;
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  bool operator==(const Leadership&) const = default;
};

// [exporter.sharding]: replicas split the consumer groups between them.
struct Sharding {
  bool enabled = false;
  std::string identity;  // as Leadership::identity
  KafkaCoordination kafka{.group = "klag-exporter-shards", .topic = "__klag_exporter_shards"};
  int partitions = 64;  // shards = partitions of the coordination topic
  bool operator==(const Sharding&) const = default;
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
  // How long a failing cluster keeps serving its last good lag data (the
  // reference's staleness_threshold). Default: see effective_max_staleness().
  std::optional<Duration> max_staleness;
  TimestampSampling timestamp_sampling;
  ConsumerStatus consumer_status;
  Otel otel;
  Leadership leadership;
  Sharding sharding;

  bool operator==(const Exporter&) const = default;
  Duration effective_cycle_timeout() const { return cycle_timeout.value_or(poll_interval); }
  // Three cycles, but never less than kMinDefaultStaleness: at a short
  // poll_interval three cycles are shorter than a group coordinator's
  // failover, and the data would vanish during every rolling restart.
  Duration effective_max_staleness() const {
    return max_staleness.value_or(std::max<Duration>(kMinDefaultStaleness, 3 * poll_interval));
  }
  static constexpr Duration kMinDefaultStaleness{std::chrono::seconds(30)};
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
  bool operator==(const Cluster&) const = default;
};

// A key accepted for compatibility with the reference exporter that does
// nothing here, or less than there: one per key, saying what we do instead.
struct ConfigWarning {
  std::string key;  // dotted key path, as in ConfigError
  int line = 0;
  std::string message;

  // "config warning at exporter.performance.kafka_timeout (line 9): ignored: ..."
  std::string to_string() const;
};

struct Config {
  Exporter exporter;
  std::vector<Cluster> clusters;
  // In file order. parse() only returns them; load_file() also logs each
  // one at warn level, so every start and reload shows them.
  std::vector<ConfigWarning> warnings;

  // The cluster hosting a coordination group (see KafkaCoordination).
  const Cluster& coordination_cluster(const KafkaCoordination& k) const;
};

// What a reload of the config file changes. Clusters are matched by name;
// a cluster whose settings (or the exporter's collection settings) changed
// is restarted, an unchanged one keeps its loop, series and cycle timing.
struct ReloadPlan {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> changed;
  std::vector<std::string> unchanged;
};

// Plans the move from `current` to `next`. Settings a running process cannot
// change (http_host, http_port, otel, leadership, sharding) make the reload
// fail with a message naming the key; the caller keeps `current`.
std::expected<ReloadPlan, std::string> plan_reload(const Config& current, const Config& next);

// The first problem found in a file; `more` holds the others, so one run
// reports every bad key rather than one per attempt.
struct ConfigError {
  // Dotted key path, e.g. "clusters[1].group_whitelist[0]"; empty if the
  // error is about the file as a whole (unreadable, TOML syntax).
  std::string key;
  // 1-based line in the file, 0 when unknown.
  int line = 0;
  std::string message;
  // Further errors in the same file, in file order (checks that span
  // several keys, with line 0, last). Empty in the errors it holds.
  std::vector<ConfigError> more;

  // "config error at clusters[1].name (line 12): must not be empty", then
  // one such line per error in `more`.
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

// Parses durations as we and the reference (Rust humantime) write them:
// "500ms", "30s", "5m", "1h", "1m30s", and also "1min", "60sec", "30 s",
// "1m 30s", "2hours", "1d", "1.5s". The result must be a whole number of
// milliseconds.
std::expected<Duration, std::string> parse_duration(std::string_view text);

// Replaces ${VAR} and ${VAR:-default} in `text`. An unset VAR without a
// default is an error naming VAR; ${?VAR} (the reference's spelling of an
// optional variable) gives "" instead. "$$" is a literal '$'.
std::expected<std::string, std::string> substitute_env(std::string_view text,
                                                       const EnvLookup& env);

// Parses the OpenTelemetry "k1=v1,k2=v2" list format (OTEL_RESOURCE_ATTRIBUTES,
// OTEL_EXPORTER_OTLP_HEADERS): pairs trimmed and percent-decoded; pairs
// without '=' or with an empty key are skipped.
std::vector<std::pair<std::string, std::string>> parse_key_value_list(std::string_view text);

// Prometheus label name rule: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__".
bool is_valid_label_name(std::string_view name);

}  // namespace klag::config
