// Every metric family the exporter serves, walked once per consumer: the
// Prometheus text renderer and (later) the OTLP encoder are SeriesSinks over
// the same walk, so both carry the same names, labels and values.
// Pure: no clock, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "collect/status.h"

namespace klag::metrics {

enum class MetricType { gauge, counter };

struct Family {
  const char* name;
  MetricType type;
  const char* help;
};

// Receives families in order; within a family, series one at a time:
// begin_series(), its labels in order, then exactly one value().
class SeriesSink {
 public:
  virtual ~SeriesSink() = default;
  virtual void family(const Family& f) = 0;
  virtual void begin_series() = 0;
  virtual void label(std::string_view name, std::string_view value) = 0;
  virtual void label(std::string_view name, int64_t value) = 0;
  virtual void value(int64_t v) = 0;
  virtual void value(double v) = 0;
};

// Which part of the data this replica serves when several run together
// (docs/high-availability.md).
struct Scope {
  // Leader election: the provider ("kafka", "kubernetes") named by
  // kafka_lag_exporter_leader; empty when election is off.
  std::string leader_provider;
  // A standby replica serves only the process's own families.
  bool standby = false;
  // Sharding: owned[i] says whether this replica owns shard i; empty when
  // sharding is off. Shard 0's owner serves the cluster-wide families.
  std::vector<bool> shards;

  bool sharded() const { return !shards.empty(); }
  bool cluster_families() const { return shards.empty() || shards[0]; }
  bool owns(std::string_view cluster, std::string_view group) const;
};

// The exporter's own figures that belong to no cluster.
struct ExporterStats {
  bool otlp_enabled = false;
  uint64_t otlp_success = 0;  // batches the receiver accepted
  uint64_t otlp_failure = 0;  // batches given up on (non-retryable error, or retries exhausted)
  uint64_t otlp_dropped = 0;  // batches replaced by a newer one before they could be sent
  // Config reloads (SIGHUP, POST /-/reload), as Prometheus reports them.
  bool reload_successful = true;
  double last_reload_success_unix_seconds = 0;
  Scope scope;
};

// kafka_consumergroup_group_state's value for a state name, as the
// reference klag-exporter encodes it: 0 Unknown (and any name it does not
// know), 1 PreparingRebalance, 2 CompletingRebalance, 3 Stable, 4 Dead,
// 5 Empty, 6 Assigning, 7 Reconciling.
int64_t group_state_code(std::string_view state);

// Emits every family (with no series when there is nothing to report),
// clusters in the given order.
void emit_metrics(const std::vector<collect::ClusterStatus>& clusters, SeriesSink& sink,
                  const ExporterStats& stats = {});

}  // namespace klag::metrics
