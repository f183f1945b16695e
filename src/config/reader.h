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

// Keeps only the first error: later errors are often consequences of the
// first, and one precise message is easier to act on than a cascade.
class Context {
 public:
  explicit Context(const EnvLookup& env) : env_(env) {}

  void fail(std::string key, int line, std::string message);
  bool failed() const { return error_.has_value(); }
  const ConfigError& error() const { return *error_; }

  // ${VAR} substitution of one string value; records an error at key/line.
  std::optional<std::string> substitute(std::string_view text, const std::string& key, int line);
  // A variable of the process environment (for OTEL_* fallbacks).
  std::optional<std::string> env(const std::string& name) const { return env_(name); }

 private:
  const EnvLookup& env_;
  std::optional<ConfigError> error_;
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
// key is absent (so struct defaults apply) and do nothing once the context
// has failed.
class TableReader {
 public:
  TableReader(Context& ctx, const toml::table& table, std::string path)
      : ctx_(ctx), table_(table), path_(std::move(path)) {}

  // Fails on the first key (in file order) not in `allowed`.
  void reject_unknown(std::initializer_list<std::string_view> allowed);
  void reject_unknown(const std::vector<std::string_view>& allowed);

  bool has(std::string_view key) const { return table_.contains(key); }
  std::string path(std::string_view key) const { return join_key(path_, key); }
  int line() const { return line_of(table_); }
  // Line of the value at `key`, or of the table when the key is absent.
  int line(std::string_view key) const;

  void read_string(std::string_view key, std::string& out);
  void read_bool(std::string_view key, bool& out);
  void read_bool(std::string_view key, std::optional<bool>& out);
  void read_int(std::string_view key, int64_t min, int64_t max, int64_t& out);
  // Durations in the config must be > 0 and at most kMaxDuration.
  void read_duration(std::string_view key, Duration& out);
  void read_duration(std::string_view key, std::optional<Duration>& out);
  void read_strings(std::string_view key, std::vector<std::string>& out);
  // The raw node at `key`, or nullptr when absent or after a failure.
  const toml::node* find(std::string_view key) const;
  // The sub-table at `key`; nullptr when absent, of the wrong type, or after
  // a failure.
  const toml::table* read_table(std::string_view key);

  template <class Int>
  void read_int(std::string_view key, Int min, Int max, Int& out) {
    int64_t value = out;
    read_int(key, static_cast<int64_t>(min), static_cast<int64_t>(max), value);
    if (!ctx_.failed()) out = static_cast<Int>(value);
  }

 private:
  void wrong_type(std::string_view key, const toml::node& node, std::string_view expected);

  Context& ctx_;
  const toml::table& table_;
  std::string path_;
};

// One year: longer durations are certainly typos, and the cap keeps derived
// values such as 3 * poll_interval far from overflow.
inline constexpr Duration kMaxDuration{std::chrono::hours(8760)};

// Section parsers (parse_exporter.cc, parse_cluster.cc).
void parse_exporter(Context& ctx, const toml::table& table, Exporter& out);
void parse_clusters(Context& ctx, const toml::node* node, std::vector<Cluster>& out);

// Label names the exporter itself emits (label.cc).
bool is_builtin_label(std::string_view name);

}  // namespace klag::config::detail
