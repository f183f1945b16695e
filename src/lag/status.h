// Lag intelligence over a short history of this exporter's own
// observations of one (group, topic, partition): consume and produce rates,
// time to catch up, and a Burrow-style status. Pure: the caller supplies
// the samples and their times. The rules are documented in docs/status.md.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace klag::lag {

// One cycle's view of a partition for a group.
struct Observation {
  int64_t time_ms = 0;    // when the cycle read it (Unix ms)
  int64_t committed = 0;  // the group's committed offset
  int64_t latest = 0;     // the high watermark
  int64_t lag() const { return latest > committed ? latest - committed : 0; }
};

enum class Status { ok, unknown, warn, stall, stop, rewind };  // in rising severity

std::string_view to_string(Status s);

struct StatusRules {
  // Samples a window needs before a status other than unknown is given.
  size_t window = 10;
  // Lag below this counts as caught up.
  int64_t min_lag = 1;
};

// The status of one partition from its window, oldest sample first:
// - unknown: fewer than rules.window samples;
// - rewind: the committed offset moved backwards between two samples;
// - ok: lag below min_lag in some sample;
// - stop: the committed offset never moved in the window, lag stayed, and
//   no live member consumes the partition (its consumers died, or the
//   partition was left behind);
// - stall: the same while a member consumes it (connected, not committing);
// - warn: the committed offset moved, but lag never shrank between two
//   samples and ended higher than it began (growing across the window);
// - ok otherwise (committing, and lag shrank at some step or did not grow).
Status evaluate(std::span<const Observation> window, bool consumed, const StatusRules& rules);

// The worse of two statuses (for a group: its worst partition).
constexpr Status worse(Status a, Status b) { return a > b ? a : b; }

struct Rates {
  double produce_per_second = 0;  // high watermark movement, never below 0
  double consume_per_second = 0;  // committed offset movement, never below 0
};

// Rates over the window (first to last sample); nullopt with fewer than
// two samples or no time between them.
std::optional<Rates> rates(std::span<const Observation> window);

// Seconds until the lag is gone at the current rates: 0 when there is no
// lag, lag / (consume - produce) while the consumer gains, +Inf otherwise.
double catchup_seconds(int64_t lag, const Rates& r);

}  // namespace klag::lag
