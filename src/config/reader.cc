#include "config/reader.h"

#include <algorithm>
#include <string>
#include <utility>

namespace klag::config::detail {
namespace {

// Edit distance, for "did you mean" hints on misspelled keys.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string suggestion(std::string_view key, const std::vector<std::string_view>& allowed) {
  std::string_view best;
  std::size_t best_distance = 3;  // only near misses are worth suggesting
  for (std::string_view candidate : allowed) {
    std::size_t distance = edit_distance(key, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best.empty() ? std::string() : " (did you mean " + quote(best) + "?)";
}

}  // namespace

void Context::fail(std::string key, int line, std::string message) {
  if (!error_) error_ = ConfigError{std::move(key), line, std::move(message)};
}

std::optional<std::string> Context::substitute(std::string_view text, const std::string& key,
                                               int line) {
  auto result = substitute_env(text, env_);
  if (!result) {
    fail(key, line, result.error());
    return std::nullopt;
  }
  return std::move(*result);
}

int line_of(const toml::node& node) { return static_cast<int>(node.source().begin.line); }
int line_of(const toml::key& key) { return static_cast<int>(key.source().begin.line); }

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::string join_key(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

std::string index_key(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::vector<Entry> entries_in_file_order(const toml::table& table) {
  std::vector<Entry> entries;
  for (auto&& [key, node] : table) entries.emplace_back(&key, &node);
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return std::pair(pa.line, pa.column) < std::pair(pb.line, pb.column);
  });
  return entries;
}

void TableReader::reject_unknown(std::initializer_list<std::string_view> allowed) {
  reject_unknown(std::vector<std::string_view>(allowed));
}

void TableReader::reject_unknown(const std::vector<std::string_view>& allowed) {
  if (ctx_.failed()) return;
  for (const auto& [key, node] : entries_in_file_order(table_)) {
    if (std::find(allowed.begin(), allowed.end(), key->str()) != allowed.end()) continue;
    return ctx_.fail(path(key->str()), line_of(*key),
                     "unknown key" + suggestion(key->str(), allowed));
  }
}

int TableReader::line(std::string_view key) const {
  const toml::node* node = table_.get(key);
  return node != nullptr ? line_of(*node) : line();
}

const toml::node* TableReader::find(std::string_view key) const {
  if (ctx_.failed()) return nullptr;
  return table_.get(key);
}

void TableReader::wrong_type(std::string_view key, const toml::node& node,
                             std::string_view expected) {
  ctx_.fail(path(key), line_of(node),
            "expected " + std::string(expected) + ", got " + std::string(type_name(node)));
}

void TableReader::read_string(std::string_view key, std::string& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return;
  const auto* value = node->as_string();
  if (value == nullptr) return wrong_type(key, *node, "a string");
  if (auto text = ctx_.substitute(value->get(), path(key), line_of(*node))) out = std::move(*text);
}

void TableReader::read_bool(std::string_view key, bool& out) {
  std::optional<bool> value;
  read_bool(key, value);
  if (value) out = *value;
}

void TableReader::read_bool(std::string_view key, std::optional<bool>& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return;
  const auto* value = node->as_boolean();
  if (value == nullptr) return wrong_type(key, *node, "a boolean");
  out = value->get();
}

void TableReader::read_int(std::string_view key, int64_t min, int64_t max, int64_t& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return;
  const auto* value = node->as_integer();
  if (value == nullptr) return wrong_type(key, *node, "an integer");
  if (value->get() < min || value->get() > max) {
    return ctx_.fail(path(key), line_of(*node),
                     "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                         ", got " + std::to_string(value->get()));
  }
  out = value->get();
}

void TableReader::read_duration(std::string_view key, Duration& out) {
  std::optional<Duration> value;
  read_duration(key, value);
  if (value) out = *value;
}

void TableReader::read_duration(std::string_view key, std::optional<Duration>& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return;
  if (!node->is_string()) return wrong_type(key, *node, "a duration string such as \"30s\"");
  std::string text;
  read_string(key, text);
  if (ctx_.failed()) return;
  auto duration = parse_duration(text);
  if (!duration) return ctx_.fail(path(key), line_of(*node), duration.error());
  if (duration->count() <= 0) {
    return ctx_.fail(path(key), line_of(*node), "must be greater than 0, got " + quote(text));
  }
  if (*duration > kMaxDuration) {
    return ctx_.fail(path(key), line_of(*node), "must not exceed 8760h, got " + quote(text));
  }
  out = *duration;
}

void TableReader::read_strings(std::string_view key, std::vector<std::string>& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return;
  const auto* array = node->as_array();
  if (array == nullptr) return wrong_type(key, *node, "an array of strings");
  std::vector<std::string> values;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string element_key = index_key(path(key), i);
    const auto* text = element.as_string();
    if (text == nullptr) {
      return ctx_.fail(element_key, line_of(element),
                       "expected a string, got " + std::string(type_name(element)));
    }
    auto value = ctx_.substitute(text->get(), element_key, line_of(element));
    if (!value) return;
    values.push_back(std::move(*value));
  }
  out = std::move(values);
}

const toml::table* TableReader::read_table(std::string_view key) {
  const toml::node* node = find(key);
  if (node == nullptr) return nullptr;
  const auto* table = node->as_table();
  if (table == nullptr) wrong_type(key, *node, "a table");
  return table;
}

}  // namespace klag::config::detail
