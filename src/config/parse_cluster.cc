// The [[clusters]] array: identity, filters, consumer properties, labels.
#include <algorithm>
#include <charconv>
#include <map>
#include <string>
#include <utility>

#include "config/filter.h"
#include "config/reader.h"

namespace klag::config::detail {
namespace {

// Each pattern is compiled on its own first so the error points at its array
// index; then, when all elements were valid (`read_ok`), the list as a
// whole, exactly as NameFilter will compile it.
void check_patterns(Context& ctx, const TableReader& r, std::string_view key,
                    const std::vector<std::string>& patterns, bool read_ok) {
  const toml::node* node = r.find(key);
  const toml::array* array = node != nullptr ? node->as_array() : nullptr;
  if (array == nullptr) return;  // absent (the defaults are valid), or not an array (reported)
  bool each_ok = read_ok;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    if (auto filter = NameFilter::create({patterns[i]}, {}); !filter) {
      ctx.fail(index_key(r.path(key), i), line_of(*array->get(i)), filter.error());
      each_ok = false;
    }
  }
  if (!each_ok) return;
  if (auto filter = NameFilter::create(patterns, {}); !filter) {
    ctx.fail(r.path(key), line_of(*node), filter.error());
  }
}

// TOML text of a float, shortest round-trip form ("0.5", "1.0", "1e+300").
std::string float_text(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string text(buffer, result.ptr);
  if (text.find_first_of(".eni") == std::string::npos) text += ".0";
  return text;
}

// Flattens nested tables into dotted names, so that an unquoted
// `sasl.mechanism = "PLAIN"` (which TOML reads as a table) still means the
// librdkafka property "sasl.mechanism".
void read_properties(Context& ctx, const toml::table& table, const std::string& path,
                     const std::string& prefix, std::map<std::string, std::string>& out) {
  // File order, so a property set twice is reported at its second occurrence.
  for (const auto& [key, node_ptr] : entries_in_file_order(table)) {
    const toml::node& node = *node_ptr;
    const std::string name =
        prefix.empty() ? std::string(key->str()) : prefix + "." + std::string(key->str());
    const std::string key_path = join_key(path, key->str());
    std::optional<std::string> value;
    if (const auto* sub = node.as_table()) {
      read_properties(ctx, *sub, key_path, name, out);
      continue;
    } else if (const auto* text = node.as_string()) {
      value = ctx.substitute(text->get(), key_path, line_of(node));
      if (!value) continue;
    } else if (const auto* integer = node.as_integer()) {
      value = std::to_string(integer->get());  // decimal even if written as 0x..
    } else if (const auto* flag = node.as_boolean()) {
      value = flag->get() ? "true" : "false";
    } else if (const auto* number = node.as_floating_point()) {
      value = float_text(number->get());
    } else {
      ctx.fail(key_path, line_of(node),
               "expected a string, integer, float or boolean, got " + std::string(type_name(node)));
      continue;
    }
    if (!out.emplace(name, std::move(*value)).second) {
      ctx.fail(key_path, line_of(node), "property " + quote(name) + " is set twice");
    }
  }
}

void read_labels(Context& ctx, const toml::table& table, const std::string& path,
                 std::vector<std::pair<std::string, std::string>>& out) {
  std::vector<std::pair<std::string, std::string>> labels;
  for (const auto& [key, node] : entries_in_file_order(table)) {
    const std::string name(key->str());
    const std::string key_path = join_key(path, name);
    if (!is_valid_label_name(name)) {
      ctx.fail(key_path, line_of(*key),
               "invalid label name " + quote(name) + ": must match [a-zA-Z_][a-zA-Z0-9_]* and not start with \"__\"");
      continue;
    }
    if (is_builtin_label(name)) {
      ctx.fail(key_path, line_of(*key), "label name " + quote(name) + " collides with a built-in label");
      continue;
    }
    const auto* text = node->as_string();
    if (text == nullptr) {
      ctx.fail(key_path, line_of(*node), "expected a string, got " + std::string(type_name(*node)));
      continue;
    }
    if (auto value = ctx.substitute(text->get(), key_path, line_of(*node))) {
      labels.emplace_back(name, std::move(*value));
    }
  }
  out = std::move(labels);
}

// False when the cluster had an error.
bool parse_cluster(Context& ctx, const toml::table& table, const std::string& path, Cluster& out) {
  const std::size_t errors_before = ctx.error_count();
  TableReader r(ctx, table, path);
  r.reject_unknown({"name", "bootstrap_servers", "group_whitelist", "group_blacklist",
                    "topic_whitelist", "topic_blacklist", "consumer_properties", "labels",
                    "member_labels"});
  const std::pair<std::string_view, std::string*> required[] = {
      {"name", &out.name}, {"bootstrap_servers", &out.bootstrap_servers}};
  for (const auto& [key, value] : required) {
    // A missing key points at the [[clusters]] header line.
    if (!r.has(key)) {
      ctx.fail(r.path(key), r.line(), "is required");
    } else if (r.read_string(key, *value) && value->empty()) {
      r.fail(key, "must not be empty");
    }
  }
  const std::pair<std::string_view, std::vector<std::string>*> filters[] = {
      {"group_whitelist", &out.group_whitelist},
      {"group_blacklist", &out.group_blacklist},
      {"topic_whitelist", &out.topic_whitelist},
      {"topic_blacklist", &out.topic_blacklist}};
  for (const auto& [key, patterns] : filters) {
    const bool read_ok = r.read_strings(key, *patterns);
    check_patterns(ctx, r, key, *patterns, read_ok);
  }
  if (const toml::table* properties = r.read_table("consumer_properties")) {
    read_properties(ctx, *properties, r.path("consumer_properties"), "", out.consumer_properties);
  }
  if (const toml::table* labels = r.read_table("labels")) {
    read_labels(ctx, *labels, r.path("labels"), out.labels);
  }
  r.read_bool("member_labels", out.member_labels);
  return ctx.error_count() == errors_before;
}

}  // namespace

bool parse_clusters(Context& ctx, const toml::node* node, std::vector<Cluster>& out) {
  const toml::array* array = node != nullptr ? node->as_array() : nullptr;
  if (node != nullptr && array == nullptr) {
    ctx.fail("clusters", line_of(*node),
             "expected an array of tables ([[clusters]]), got " + std::string(type_name(*node)));
    return false;
  }
  if (array == nullptr || array->empty()) {
    ctx.fail("clusters", node != nullptr ? line_of(*node) : 0, "at least one [[clusters]] entry is required");
    return false;
  }
  bool all_ok = true;
  std::map<std::string, std::size_t> index_by_name;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string path = index_key("clusters", i);
    const auto* table = element.as_table();
    if (table == nullptr) {
      ctx.fail(path, line_of(element), "expected a table, got " + std::string(type_name(element)));
      all_ok = false;
      continue;
    }
    Cluster cluster;
    if (!parse_cluster(ctx, *table, path, cluster)) {
      all_ok = false;
      // A name that did not parse cannot be compared with the others.
      if (cluster.name.empty()) continue;
    }
    // The name is the cluster_name label: two clusters sharing it would
    // produce colliding series.
    auto [it, inserted] = index_by_name.emplace(cluster.name, i);
    if (!inserted) {
      ctx.fail(join_key(path, "name"), line_of(*table->get("name")),
               "duplicate cluster name " + quote(cluster.name) + " (also used by " +
                   index_key("clusters", it->second) + ")");
      all_ok = false;
      continue;
    }
    out.push_back(std::move(cluster));
  }
  return all_ok;
}

}  // namespace klag::config::detail
