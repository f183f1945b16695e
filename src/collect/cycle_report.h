// What a cycle that worked as a whole still missed (partial errors), how
// the end of a cycle is logged, and how often a cluster's cycles with
// partial errors may warn. Pure apart from the caller's clock.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace klag::collect {

// Data a successful cycle is missing, by step. Each count has its own unit,
// and `asked` says out of how many, for the log's "n/m".
struct PartialErrors {
  size_t list_groups = 0;        // brokers that did not answer ListGroups (the listing may be incomplete)
  size_t describe_groups = 0;    // groups left undescribed (state Unknown, no members)
  size_t committed_offsets = 0;  // groups whose committed offsets were not fetched (carried forward, or dropped)
  size_t watermarks = 0;         // partitions whose watermarks were not read (no lag series this cycle)
  size_t metadata = 0;           // 1 when the Metadata request failed and the last cycle's answer was used
  size_t groups_described = 0;   // groups asked to describe
  size_t groups_fetched = 0;     // groups whose committed offsets were asked for
  size_t partitions = 0;         // partitions whose watermarks were asked for
  // The first error seen, to show what went wrong (one of possibly thousands).
  std::string first_error;

  size_t total() const;
};

// Partial errors of the cycles that worked, cumulative since start, by
// kind: kafka_lag_exporter_cycle_partial_errors_total.
struct PartialErrorTotals {
  uint64_t list_groups = 0;
  uint64_t describe_groups = 0;
  uint64_t committed_offsets = 0;
  uint64_t watermarks = 0;
  uint64_t metadata = 0;

  void add(const PartialErrors& e);
};

// One kind of partial error: all that names or counts it. A new kind is a
// member of PartialErrors and of PartialErrorTotals and a row here; total(),
// add(), describe() and the metric's series and help all walk this table
// (docs/metrics.md names the kinds too).
struct PartialErrorKind {
  std::string_view name;  // the metric's `kind` label
  std::string_view help;  // what the count counts, for the metric's help
  // In describe(): "WHAT of N/ASKED UNIT", else "WHAT of N UNIT" (UNIT_ONE
  // when N is 1), or WHAT alone when UNIT is empty.
  std::string_view what;
  std::string_view unit;
  std::string_view unit_one;
  size_t PartialErrors::*count;
  size_t PartialErrors::*asked;  // null: out of an unknown number
  uint64_t PartialErrorTotals::*total;
  size_t concern;  // position in describe(), largest concern first
};

// In the order of the metric's series.
inline constexpr std::array<PartialErrorKind, 5> kPartialErrorKinds{{
    {"list_groups", "brokers that did not answer ListGroups", "ListGroups", "brokers", "broker",
     &PartialErrors::list_groups, nullptr, &PartialErrorTotals::list_groups, 3},
    {"describe_groups", "groups not described", "descriptions", "groups", "groups", &PartialErrors::describe_groups,
     &PartialErrors::groups_described, &PartialErrorTotals::describe_groups, 2},
    // Offsets first in the log: a group without them has no lag at all.
    {"committed_offsets", "groups whose committed offsets were not fetched", "committed offsets", "groups", "groups",
     &PartialErrors::committed_offsets, &PartialErrors::groups_fetched, &PartialErrorTotals::committed_offsets, 0},
    {"watermarks", "partitions whose watermarks were not read", "watermarks", "partitions", "partitions",
     &PartialErrors::watermarks, &PartialErrors::partitions, &PartialErrorTotals::watermarks, 1},
    {"metadata", "cycles that used the previous cycle's metadata because their own request failed",
     "metadata of the last cycle", "", "", &PartialErrors::metadata, nullptr, &PartialErrorTotals::metadata, 4},
}};

namespace detail {
constexpr bool concerns_are_a_permutation() {
  for (size_t i = 0; i < kPartialErrorKinds.size(); ++i) {
    size_t with_rank = 0;
    for (const auto& k : kPartialErrorKinds) with_rank += k.concern == i ? 1 : 0;
    if (with_rank != 1) return false;
  }
  return true;
}
}  // namespace detail
static_assert(detail::concerns_are_a_permutation(), "each kind needs its own place in describe()");
static_assert(sizeof(PartialErrorTotals) == kPartialErrorKinds.size() * sizeof(uint64_t),
              "every member of PartialErrorTotals needs a row in kPartialErrorKinds");

// The line that ends every cycle (tests/integration/klag_harness.py's
// cycle_line() parses it; keep them in step):
//   cluster NAME: cycle N ok in S.SSSs
//   cluster NAME: cycle N partial in S.SSSs: partial errors: committed offsets of 3999/4000 groups, ...
//   cluster NAME: cycle N failed in S.SSSs: STEP: ERROR
// `errors` is null for a failed cycle; `failure` is empty for one that worked.
std::string cycle_line(const std::string& cluster, uint64_t cycle, double seconds, const PartialErrors* errors,
                       const std::string& failure);

// "committed offsets of 3999/4000 groups, watermarks of 12/19000 partitions
// (first: ...)": the non-zero counts of `e`, largest concern first.
std::string describe(const PartialErrors& e);

// At most one warning per `interval` for a cluster whose cycles keep
// having partial errors, so a fault that hits every cycle (and 4,000 groups
// in each) is one line a minute, not one a cycle (and never one a group).
// The cycles between warnings go to debug and are counted. Owned by the
// cluster's loop; single-threaded.
class PartialWarnings {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PartialWarnings(Clock::duration interval = std::chrono::minutes(1)) : interval_(interval) {}

  // A cycle with partial errors ended at `now`: true when it warns (the
  // first such cycle, then at most once per interval). suppressed() is then
  // the number of such cycles logged at debug since the previous warning.
  bool partial(Clock::time_point now);
  // A cycle without partial errors ended: true when it should say at info
  // that cycles are complete again (the first clean cycle after a warning);
  // finished_run() is then the number of cycles with partial errors before it.
  bool clean();
  size_t suppressed() const { return suppressed_; }
  size_t finished_run() const { return finished_run_; }

 private:
  Clock::duration interval_;
  bool warned_ = false;  // a warning was logged since the last "complete again"
  bool ever_warned_ = false;
  Clock::time_point last_warning_{};
  size_t pending_ = 0;     // cycles with partial errors at debug since the last warning
  size_t suppressed_ = 0;  // pending_ as of the last warning
  size_t run_ = 0;         // cycles with partial errors since the last clean one
  size_t finished_run_ = 0;
};

}  // namespace klag::collect
