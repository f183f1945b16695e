// What a cycle that worked as a whole still missed (partial errors), how
// the end of a cycle is logged, and how often a cluster's cycles with
// partial errors may warn. Pure apart from the caller's clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

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

  size_t total() const { return list_groups + describe_groups + committed_offsets + watermarks + metadata; }
};

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
