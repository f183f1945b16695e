// A short history of one cluster's observations, kept between cycles, from
// which each cycle's ClusterLag gets its status, rates and catch-up times
// (docs/status.md). No clock and no I/O: the caller passes each cycle's
// time. One History per cluster, used from that cluster's loop only.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "lag/model.h"
#include "lag/status.h"

namespace klag::lag {

class History {
 public:
  explicit History(StatusRules rules) : rules_(rules) {}

  // Records `lag` as the observation at `now_ms` and fills its status,
  // rate and catch-up fields from the window that ends with it. Partitions
  // and group partitions absent from `lag` are forgotten, so the history
  // holds only what the cluster has now; one that comes back starts over.
  //
  // The returned snapshot also serves as the key set of the history for the
  // next cycle (the samples are stored in its order), so keeping it costs
  // nothing beyond what the caller already publishes.
  std::shared_ptr<const ClusterLag> observe(ClusterLag lag, int64_t now_ms);

  // Forgets everything (a standby's old term, data dropped as stale).
  void clear();

  // Group partitions and partitions held (for tests and memory accounting).
  size_t group_partitions() const { return prev_ ? prev_->partition_lags.size() : 0; }
  size_t partitions() const { return prev_ ? prev_->partitions.size() : 0; }

 private:
  struct GroupSample {
    int64_t committed;
    int64_t latest;
  };
  // Per key, up to `window` samples, oldest first, at [i * window, + count[i]).
  template <typename Sample>
  struct Samples {
    std::vector<Sample> data;
    std::vector<uint16_t> count;
  };

  // Per group partition: whether a live member consumes it (stall rather
  // than stop), from this cycle's assignment, or the last one seen when the
  // group could not be described.
  std::vector<uint8_t> consumed_now(const ClusterLag& lag, const std::vector<size_t>& matched) const;

  StatusRules rules_;
  // The times of the last `window` observations, oldest first. A key seen k
  // times has its samples at the last k of them: a key missing from one
  // observation is dropped, so every held key was seen in every one since
  // it appeared.
  std::deque<int64_t> times_;
  std::shared_ptr<const ClusterLag> prev_;  // keys of the samples below
  Samples<int64_t> partitions_;             // high watermarks, by prev_->partitions
  Samples<GroupSample> groups_;             // by prev_->partition_lags
  std::vector<uint8_t> consumed_;           // by prev_->partition_lags
};

}  // namespace klag::lag
