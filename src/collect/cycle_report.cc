#include "collect/cycle_report.h"

#include <spdlog/fmt/fmt.h>

namespace klag::collect {

size_t PartialErrors::total() const {
  size_t n = 0;
  for (const auto& k : kPartialErrorKinds) n += this->*k.count;
  return n;
}

void PartialErrorTotals::add(const PartialErrors& e) {
  for (const auto& k : kPartialErrorKinds) this->*k.total += e.*k.count;
}

std::string describe(const PartialErrors& e) {
  std::string out;
  for (size_t rank = 0; rank < kPartialErrorKinds.size(); ++rank) {
    for (const auto& k : kPartialErrorKinds) {
      const size_t n = e.*k.count;
      if (k.concern != rank || n == 0) continue;
      if (!out.empty()) out += ", ";
      const size_t of = k.asked ? e.*k.asked : 0;
      if (k.unit.empty()) {
        out += k.what;
      } else if (of > 0) {
        out += fmt::format("{} of {}/{} {}", k.what, n, of, k.unit);
      } else {
        out += fmt::format("{} of {} {}", k.what, n, n == 1 ? k.unit_one : k.unit);
      }
    }
  }
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
