// Internal to klag_config: typed, path-aware reading of a parsed TOML tree.
//
// Every value is read through TableReader so that each error carries the
// dotted key path and source line, and every string value goes through
// environment substitution exactly once, after TOML parsing.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"

namespace klag::config::detail {

// Collects every error and warning of one load. An error does not stop the
// parse: each check looks only at its own key, so one run reports every bad
// key. Only the first error per key is kept, since later ones about the
// same key are consequences of it.
class Context {
 public:
  explicit Context(const EnvLookup& env) : env_(env) {}

  void fail(std::string key, int line, std::string message);
  void warn(std::string key, int line, std::string message);
  bool failed() const { return !errors_.empty(); }
  // Grows with each error kept; tells a step whether it added any.
  std::size_t error_count() const { return errors_.size(); }
  // All errors: the first in file order, the others in its `more`.
  // Only meaningful when failed().
  ConfigError error() const;
  // The warnings in file order.
  std::vector<ConfigWarning> warnings() const;

  // ${VAR} substitution of one string value; records an error at key/line.
  std::optional<std::string> substitute(std::string_view text, const std::string& key, int line);
  // A variable of the process environment (for OTEL_* fallbacks).
  std::optional<std::string> env(const std::string& name) const { return env_(name); }

 private:
  const EnvLookup& env_;
  std::vector<ConfigError> errors_;
  std::vector<ConfigWarning> warnings_;
};

int line_of(const toml::node& node);
int line_of(const toml::key& key);
// "a string", "an integer", ... for "expected X, got Y" messages.
std::string_view type_name(const toml::node& node);
std::string join_key(std::string_view parent, std::string_view key);
std::string index_key(std::string_view parent, std::size_t index);
std::string quote(std::string_view text);

// toml++ keeps tables sorted by key; key source positions restore file order
// (for label order and for reporting the earliest problem first).
using Entry = std::pair<const toml::key*, const toml::node*>;
std::vector<Entry> entries_in_file_order(const toml::table& table);

// Reads the keys of one TOML table. Getters leave `out` untouched when the
// key is absent or invalid (so struct defaults apply), record an error when
// it is invalid, and return true only when they stored a value, so that
// checks which depend on a value run only on a valid one.
class TableReader {
 public:
  TableReader(Context& ctx, const toml::table& table, std::string path)
      : ctx_(ctx), table_(table), path_(std::move(path)) {}

  // Records an error for every key (in file order) not in `allowed`.
  void reject_unknown(std::initializer_list<std::string_view> allowed);
  void reject_unknown(const std::vector<std::string_view>& allowed);

  bool has(std::string_view key) const { return table_.contains(key); }
  std::string path(std::string_view key) const { return join_key(path_, key); }
  int line() const { return line_of(table_); }
  // Line of the value at `key`, or of the table when the key is absent.
  int line(std::string_view key) const;
  // An error or a warning about `key`, at its line.
  void fail(std::string_view key, std::string message) { ctx_.fail(path(key), line(key), std::move(message)); }
  void warn(std::string_view key, std::string message) { ctx_.warn(path(key), line(key), std::move(message)); }

  bool read_string(std::string_view key, std::string& out);
  bool read_bool(std::string_view key, bool& out);
  bool read_bool(std::string_view key, std::optional<bool>& out);
  bool read_int(std::string_view key, int64_t min, int64_t max, int64_t& out);
  // An integer or a float; must be finite.
  bool read_number(std::string_view key, double& out);
  // Durations in the config must be > 0 and at most kMaxDuration.
  bool read_duration(std::string_view key, Duration& out);
  bool read_duration(std::string_view key, std::optional<Duration>& out);
  // As read_duration, but "0s" is allowed (the reference's "0 disables").
  bool read_duration_or_zero(std::string_view key, Duration& out);
  // An array of strings. An invalid element is an error and leaves "" in
  // its place (returning false), so that the others can still be checked at
  // their own index.
  bool read_strings(std::string_view key, std::vector<std::string>& out);
  // The raw node at `key`, or nullptr when absent.
  const toml::node* find(std::string_view key) const { return table_.get(key); }
  // The sub-table at `key`; nullptr when absent or of the wrong type (an
  // error then).
  const toml::table* read_table(std::string_view key);

  template <class Int>
  bool read_int(std::string_view key, Int min, Int max, Int& out) {
    int64_t value = out;
    if (!read_int(key, static_cast<int64_t>(min), static_cast<int64_t>(max), value)) return false;
    out = static_cast<Int>(value);
    return true;
  }

 private:
  void wrong_type(std::string_view key, const toml::node& node, std::string_view expected);
  std::optional<Duration> duration(std::string_view key, bool allow_zero);

  Context& ctx_;
  const toml::table& table_;
  std::string path_;
};

// One year: longer durations are certainly typos, and the cap keeps derived
// values such as 3 * poll_interval far from overflow.
inline constexpr Duration kMaxDuration{std::chrono::hours(8760)};

// Section parsers (parse_exporter.cc, parse_cluster.cc).
void parse_exporter(Context& ctx, const toml::table& table, Exporter& out);
// False when any cluster had an error (the clusters that parsed are in `out`).
bool parse_clusters(Context& ctx, const toml::node* node, std::vector<Cluster>& out);

// Keys of the reference exporter we accept for compatibility (compat.cc).
// Its [exporter] keys beyond ours:
inline constexpr std::string_view kReferenceExporterKeys[] = {"staleness_threshold", "performance"};
// Its [exporter.timestamp_sampling] keys beyond ours:
inline constexpr std::string_view kReferenceSamplingKeys[] = {
    "mode", "skip_data_loss_partitions", "rate_history_samples", "rate_history_max_age", "rate_min_msgs_per_sec"};
// Reads them: honours what has a meaning here, warns about the rest.
void parse_reference_exporter_keys(Context& ctx, TableReader& exporter, Exporter& out);
void parse_reference_sampling_keys(TableReader& sampling);

// Label names the exporter itself emits (label.cc).
bool is_builtin_label(std::string_view name);

}  // namespace klag::config::detail
