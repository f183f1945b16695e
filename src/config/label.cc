// Custom label names: Prometheus syntax, minus the names the exporter emits.
#include <algorithm>
#include <array>

#include "config/config.h"
#include "config/reader.h"

namespace klag::config {
namespace {

// Labels of the exporter's own series; a custom label with one of these names
// would produce duplicate label names in the exposition.
// clang-format off
constexpr std::array<std::string_view, 18> kBuiltinLabels = {
    "cluster_name", "group", "topic", "partition",          // series identity
    "member_host", "consumer_id", "client_id",              // member labels
    "compaction_detected", "data_loss_detected",            // lag flags
    "state", "assignor", "status", "result", "provider",    // group / exporter metrics
    "le", "quantile", "job", "instance"};                   // Prometheus-reserved
// clang-format on

}  // namespace

bool is_valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  auto head = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!head(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return head(c) || (c >= '0' && c <= '9'); });
}

namespace detail {

bool is_builtin_label(std::string_view name) {
  return std::find(kBuiltinLabels.begin(), kBuiltinLabels.end(), name) != kBuiltinLabels.end();
}

}  // namespace detail
}  // namespace klag::config
