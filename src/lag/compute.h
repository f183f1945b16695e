// Lag math: pure functions over a cycle's plain data. No clock, no I/O.
#pragma once

#include <cstdint>

#include "lag/model.h"

namespace klag::lag {

// Offset lag as Kafka's ConsumerGroupCommand reports it (LOG-END-OFFSET -
// CURRENT-OFFSET), clamped at 0: a commit past the high watermark (possible
// after an unclean leader election truncated the log) is not negative lag.
constexpr int64_t offset_lag(int64_t high_watermark, int64_t committed) {
  return high_watermark > committed ? high_watermark - committed : 0;
}

// How much of the retained log the lag occupies, in percent:
// lag / (latest - earliest) * 100, 0 when the log is empty. Above 100 means
// the group's next record was already deleted.
double lag_retention_ratio(int64_t latest, int64_t earliest, int64_t committed);

// The offset whose record's age is the time lag: the committed offset, or
// the log start when retention already deleted it (data loss), so the time
// lag is then a lower bound rather than a 0 that looks caught up.
constexpr int64_t time_lag_read_offset(int64_t committed, int64_t earliest) {
  return committed < earliest ? earliest : committed;
}

// Joins committed offsets with watermarks and assignments.
// - A commit whose partition has no watermark (its leader did not answer
//   this cycle; the collector already dropped deleted topics) yields no
//   PartitionLag, and its group's lag aggregates and its (group, topic) sum
//   are left out too: no number beats a partial one.
// - A group's max time lag is only set when all its partitions have one.
// - Groups listed in sample.groups appear in ClusterLag::groups even without
//   commits; commits of groups not listed still count (their group is added
//   with state "Unknown").
// - Time lag: with sample.timestamps_enabled, lag 0 gives lag_seconds 0,
//   and lag > 0 gives now - timestamp of the record at time_lag_read_offset
//   (clamped at 0 against clock skew) when that timestamp was read.
ClusterLag compute(const ClusterSample& sample, int64_t now_unix_ms = 0);

}  // namespace klag::lag
