#include "collect/status.h"

namespace klag::collect {

ClusterStatus initial_status(const config::Cluster& cluster, const config::Exporter& exporter) {
  ClusterStatus s;
  s.name = cluster.name;
  s.labels = cluster.labels;
  s.granularity = exporter.granularity;
  s.member_labels = cluster.member_labels.value_or(exporter.member_labels);
  s.partition_status = exporter.consumer_status.partition_status;
  s.sampling_enabled = exporter.timestamp_sampling.enabled;
  return s;
}

void forget_term(ClusterStatus& s) {
  s.first_cycle_done = false;
  s.up = false;
  s.stale = false;
  s.last_success_unix_seconds = 0;
  s.last_cycle_seconds = 0;
  s.timings = {};
  s.last_sampling = {};
  s.last_error.clear();
  s.lag.reset();
}

}  // namespace klag::collect
