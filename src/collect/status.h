// What one cluster's loop publishes after every cycle, successful or not.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "collect/collector.h"
#include "collect/cycle_report.h"
#include "config/config.h"
#include "lag/model.h"

namespace klag::collect {

struct ClusterStatus {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // custom labels
  config::Granularity granularity = config::Granularity::partition;
  bool member_labels = true;
  bool partition_status = true;  // consumer_status.partition_status

  bool first_cycle_done = false;
  bool up = false;  // the last cycle succeeded
  // True when `lag` comes from an earlier cycle because the last one failed.
  bool stale = false;
  uint64_t cycles = 0;
  uint64_t failed_cycles = 0;
  // Wall-clock time of the last successful cycle's end (0 = never).
  double last_success_unix_seconds = 0;
  double last_cycle_seconds = 0;
  StepTimings timings;
  SamplingStats last_sampling;
  // Cumulative since start (counters).
  uint64_t timestamp_reads_total = 0;
  uint64_t timestamp_cache_hits_total = 0;
  uint64_t timestamp_timeouts_total = 0;
  uint64_t timestamp_denied_total = 0;
  uint64_t timestamp_fetch_bytes_total = 0;
  PartialErrorTotals partial_errors_total;
  bool sampling_enabled = false;
  std::string last_error;
  // Last good lag data; null before the first success and once it is older
  // than max_staleness.
  std::shared_ptr<const lag::ClusterLag> lag;
};

}  // namespace klag::collect

namespace klag::collect {

// The status of a cluster before its first cycle.
ClusterStatus initial_status(const config::Cluster& cluster, const config::Exporter& exporter);

// Leader election: forgets what `s` says about the cycles of an earlier
// leadership term (whether the last one finished or worked, when one last
// worked, its lag, timings and error), so /ready and the data served wait
// for the new term's own cycles. Keeps the cluster's identity and the
// counters (cycles, failures, *_total), which must never go backwards.
void forget_term(ClusterStatus& s);

}  // namespace klag::collect
