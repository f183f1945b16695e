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

// Joins committed offsets with watermarks and assignments.
// - A commit whose partition has no watermark (topic deleted, or its leader
//   did not answer this cycle) yields no PartitionLag: no number beats a
//   wrong number.
// - Groups listed in sample.groups appear in ClusterLag::groups even without
//   commits; commits of groups not listed still count (their group is added
//   with state "Unknown").
ClusterLag compute(const ClusterSample& sample);

}  // namespace klag::lag
