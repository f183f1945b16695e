#include "collect/bootstrap.h"

#include <set>
#include <string_view>

namespace klag::collect {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (auto item = trim(list.substr(0, comma)); !item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

std::string merge_bootstrap(const std::string& configured, const std::vector<std::string>& learned) {
  std::string out = configured;
  std::set<std::string_view> seen;
  for (auto item : split(configured)) seen.insert(item);
  for (const auto& broker : learned) {
    auto item = trim(broker);
    if (item.empty() || !seen.insert(item).second) continue;
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

size_t bootstrap_count(const std::string& list) { return split(list).size(); }

}  // namespace klag::collect
