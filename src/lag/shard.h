// Sharding of consumer groups across replicas: a stable hash of
// (cluster, group). Pure.
#pragma once

#include <cstdint>
#include <string_view>

namespace klag::lag {

// The shard of a consumer group: FNV-1a (64 bit) over the cluster name, a
// zero byte and the group id, modulo `shards`. Stable across builds and
// platforms, so every replica, of any version, agrees. `shards` > 0.
inline uint32_t shard_of(std::string_view cluster, std::string_view group, uint32_t shards) {
  uint64_t h = 14695981039346656037ULL;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ULL;
  };
  for (char c : cluster) mix(static_cast<unsigned char>(c));
  mix(0);
  for (char c : group) mix(static_cast<unsigned char>(c));
  return static_cast<uint32_t>(h % shards);
}

}  // namespace klag::lag
