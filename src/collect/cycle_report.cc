#include "collect/cycle_report.h"

#include <spdlog/fmt/fmt.h>

namespace klag::collect {

std::string describe(const PartialErrors& e) {
  std::string out;
  auto add = [&out](size_t n, std::string_view what, size_t of, std::string_view unit) {
    if (n == 0) return;
    if (!out.empty()) out += ", ";
    out += of > 0 ? fmt::format("{} of {}/{} {}", what, n, of, unit) : fmt::format("{} of {} {}", what, n, unit);
  };
  // Offsets first: a group without them has no lag at all.
  add(e.committed_offsets, "committed offsets", e.groups_fetched, "groups");
  add(e.watermarks, "watermarks", e.partitions, "partitions");
  add(e.describe_groups, "descriptions", e.groups_described, "groups");
  add(e.list_groups, "ListGroups", 0, e.list_groups == 1 ? "broker" : "brokers");
  if (e.metadata > 0) out += std::string(out.empty() ? "" : ", ") + "metadata of the last cycle";
  if (!e.first_error.empty()) out += " (first: " + e.first_error + ")";
  return out;
}

std::string cycle_line(const std::string& cluster, uint64_t cycle, double seconds, const PartialErrors* errors,
                       const std::string& failure) {
  if (!errors) return fmt::format("cluster {}: cycle {} failed in {:.3f}s: {}", cluster, cycle, seconds, failure);
  if (errors->total() == 0) return fmt::format("cluster {}: cycle {} ok in {:.3f}s", cluster, cycle, seconds);
  return fmt::format("cluster {}: cycle {} partial in {:.3f}s: partial errors: {}", cluster, cycle, seconds,
                     describe(*errors));
}

bool PartialWarnings::partial(Clock::time_point now) {
  ++run_;
  if (ever_warned_ && now - last_warning_ < interval_) {
    ++pending_;
    return false;
  }
  suppressed_ = pending_;
  pending_ = 0;
  last_warning_ = now;
  ever_warned_ = warned_ = true;
  return true;
}

bool PartialWarnings::clean() {
  finished_run_ = run_;
  run_ = 0;
  const bool say = warned_;
  warned_ = false;
  return say;
}

}  // namespace klag::collect
