#include "config/reader.h"

#include <algorithm>
#include <cmath>
#include <iterator>
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
  if (!key.empty()) {
    for (const ConfigError& e : errors_) {
      if (e.key == key) return;
    }
  }
  errors_.push_back(ConfigError{std::move(key), line, std::move(message), {}});
}

void Context::warn(std::string key, int line, std::string message) {
  warnings_.push_back(ConfigWarning{std::move(key), line, std::move(message)});
}

namespace {

// Orders keys of one line, e.g. array elements, as they are written:
// digit runs compare as numbers, so "list[2]" comes before "list[10]".
bool natural_less(std::string_view a, std::string_view b) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      const std::size_t ai = i;
      const std::size_t bj = j;
      while (i < a.size() && digit(a[i])) ++i;
      while (j < b.size() && digit(b[j])) ++j;
      const std::string_view x = a.substr(ai, i - ai);
      const std::string_view y = b.substr(bj, j - bj);
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

// File order; problems without a line (checks across keys) come last.
template <class Problem>
std::vector<Problem> in_file_order(std::vector<Problem> problems) {
  std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
    if (a.line != b.line) return std::pair(a.line == 0, a.line) < std::pair(b.line == 0, b.line);
    return a.line != 0 && natural_less(a.key, b.key);
  });
  return problems;
}

}  // namespace

ConfigError Context::error() const {
  std::vector<ConfigError> sorted = in_file_order(errors_);
  ConfigError first = std::move(sorted.front());
  first.more.assign(std::make_move_iterator(sorted.begin() + 1), std::make_move_iterator(sorted.end()));
  return first;
}

std::vector<ConfigWarning> Context::warnings() const { return in_file_order(warnings_); }

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
  for (const auto& [key, node] : entries_in_file_order(table_)) {
    if (std::find(allowed.begin(), allowed.end(), key->str()) != allowed.end()) continue;
    ctx_.fail(path(key->str()), line_of(*key), "unknown key" + suggestion(key->str(), allowed));
  }
}

int TableReader::line(std::string_view key) const {
  const toml::node* node = table_.get(key);
  return node != nullptr ? line_of(*node) : line();
}

void TableReader::wrong_type(std::string_view key, const toml::node& node,
                             std::string_view expected) {
  ctx_.fail(path(key), line_of(node),
            "expected " + std::string(expected) + ", got " + std::string(type_name(node)));
}

bool TableReader::read_string(std::string_view key, std::string& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return false;
  const auto* value = node->as_string();
  if (value == nullptr) {
    wrong_type(key, *node, "a string");
    return false;
  }
  auto text = ctx_.substitute(value->get(), path(key), line_of(*node));
  if (!text) return false;
  out = std::move(*text);
  return true;
}

bool TableReader::read_bool(std::string_view key, bool& out) {
  std::optional<bool> value;
  if (!read_bool(key, value)) return false;
  out = *value;
  return true;
}

bool TableReader::read_bool(std::string_view key, std::optional<bool>& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return false;
  const auto* value = node->as_boolean();
  if (value == nullptr) {
    wrong_type(key, *node, "a boolean");
    return false;
  }
  out = value->get();
  return true;
}

bool TableReader::read_int(std::string_view key, int64_t min, int64_t max, int64_t& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return false;
  const auto* value = node->as_integer();
  if (value == nullptr) {
    wrong_type(key, *node, "an integer");
    return false;
  }
  if (value->get() < min || value->get() > max) {
    ctx_.fail(path(key), line_of(*node),
              "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                  std::to_string(value->get()));
    return false;
  }
  out = value->get();
  return true;
}

bool TableReader::read_number(std::string_view key, double& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return false;
  if (const auto* integer = node->as_integer()) {
    out = static_cast<double>(integer->get());
    return true;
  }
  const auto* number = node->as_floating_point();
  if (number == nullptr) {
    wrong_type(key, *node, "a number");
    return false;
  }
  if (!std::isfinite(number->get())) {
    ctx_.fail(path(key), line_of(*node), "must be a finite number");
    return false;
  }
  out = number->get();
  return true;
}

std::optional<Duration> TableReader::duration(std::string_view key, bool allow_zero) {
  const toml::node* node = find(key);
  if (node == nullptr) return std::nullopt;
  if (!node->is_string()) {
    wrong_type(key, *node, "a duration string such as \"30s\"");
    return std::nullopt;
  }
  std::string text;
  if (!read_string(key, text)) return std::nullopt;
  auto duration = parse_duration(text);
  if (!duration) {
    ctx_.fail(path(key), line_of(*node), duration.error());
    return std::nullopt;
  }
  if (duration->count() == 0 && !allow_zero) {
    ctx_.fail(path(key), line_of(*node), "must be greater than 0, got " + quote(text));
    return std::nullopt;
  }
  if (*duration > kMaxDuration) {
    ctx_.fail(path(key), line_of(*node), "must not exceed 8760h, got " + quote(text));
    return std::nullopt;
  }
  return *duration;
}

bool TableReader::read_duration(std::string_view key, Duration& out) {
  auto value = duration(key, false);
  if (value) out = *value;
  return value.has_value();
}

bool TableReader::read_duration(std::string_view key, std::optional<Duration>& out) {
  auto value = duration(key, false);
  if (value) out = *value;
  return value.has_value();
}

bool TableReader::read_duration_or_zero(std::string_view key, Duration& out) {
  auto value = duration(key, true);
  if (value) out = *value;
  return value.has_value();
}

bool TableReader::read_strings(std::string_view key, std::vector<std::string>& out) {
  const toml::node* node = find(key);
  if (node == nullptr) return false;
  const auto* array = node->as_array();
  if (array == nullptr) {
    wrong_type(key, *node, "an array of strings");
    return false;
  }
  std::vector<std::string> values;
  bool ok = true;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string element_key = index_key(path(key), i);
    const auto* text = element.as_string();
    std::optional<std::string> value;
    if (text == nullptr) {
      ctx_.fail(element_key, line_of(element), "expected a string, got " + std::string(type_name(element)));
    } else {
      value = ctx_.substitute(text->get(), element_key, line_of(element));
    }
    ok = ok && value.has_value();
    values.push_back(value.value_or(""));
  }
  out = std::move(values);
  return ok;
}

const toml::table* TableReader::read_table(std::string_view key) {
  const toml::node* node = find(key);
  if (node == nullptr) return nullptr;
  const auto* table = node->as_table();
  if (table == nullptr) wrong_type(key, *node, "a table");
  return table;
}

}  // namespace klag::config::detail
