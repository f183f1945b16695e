// Sharding: replicas split the consumer groups of every cluster through a
// consumer group on a coordination topic whose partitions are the shards.
// A (cluster, group) belongs to shard lag::shard_of(cluster, group, N); a
// replica collects and serves the groups of the shards it holds, and the
// holder of shard 0 serves the cluster-wide families.
//
// Thread-safe like KafkaMembership, which it wraps.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "ha/kafka_membership.h"

namespace klag::ha {

class ShardOwnership {
 public:
  // Runs on the membership thread when the held shards change.
  using OnChange = std::function<void(const std::vector<bool>& owned)>;

  ShardOwnership(const config::Config& config, const std::string& identity);

  void start(OnChange on_change);
  void stop();
  // owned[i]: this replica holds shard i. Before the first join (shard
  // count unknown) a single false entry: nothing is owned.
  std::vector<bool> owned(Clock::time_point now) const;
  bool owns(const std::string& cluster, const std::string& group, Clock::time_point now) const;

 private:
  static std::vector<bool> to_owned(const Holding& h);
  KafkaMembership membership_;
};

}  // namespace klag::ha
