#include "ha/shards.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "lag/shard.h"

namespace klag::ha {

ShardOwnership::ShardOwnership(const config::Config& config, const std::string& identity)
    : membership_(member_options(config, config.exporter.sharding.kafka, identity, config.exporter.sharding.partitions)) {}

void ShardOwnership::start(OnChange on_change) {
  membership_.start([on_change = std::move(on_change)](const Holding& h) {
    spdlog::info("sharding: this replica now holds {} of {} shards", h.partitions.size(), h.total);
    if (on_change) on_change(to_owned(h));
  });
}

void ShardOwnership::stop() { membership_.stop(); }

std::vector<bool> ShardOwnership::to_owned(const Holding& h) {
  std::vector<bool> owned(static_cast<size_t>(std::max(h.total, 1)), false);
  for (int32_t p : h.partitions) {
    if (p >= 0 && p < h.total) owned[static_cast<size_t>(p)] = true;
  }
  return owned;
}

std::vector<bool> ShardOwnership::owned(Clock::time_point now) const { return to_owned(membership_.held(now)); }

bool ShardOwnership::owns(const std::string& cluster, const std::string& group, Clock::time_point now) const {
  const Holding h = membership_.held(now);
  if (h.total <= 0) return false;
  const auto shard = static_cast<int32_t>(lag::shard_of(cluster, group, static_cast<uint32_t>(h.total)));
  return std::binary_search(h.partitions.begin(), h.partitions.end(), shard);
}

}  // namespace klag::ha
