// The plain data one collection cycle produces and the lag computation
// consumes. No librdkafka types and no I/O: every stage can use these.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace klag::lag {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct Member {
  std::string client_id;
  std::string consumer_id;
  std::string host;
  std::vector<TopicPartition> assignment;
};

struct Group {
  std::string id;
  // Kafka's group state name: "Stable", "Empty", "PreparingRebalance", ...
  // "Unknown" when the group could not be described this cycle.
  std::string state = "Unknown";
  std::string assignor;  // partition assignor, empty for simple groups
  bool described = false;
  std::vector<Member> members;
};

struct CommittedOffset {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;  // always >= 0: partitions without a commit are dropped
};

struct PartitionOffsets {
  std::string topic;
  int32_t partition = 0;
  int64_t earliest = 0;  // log start offset
  int64_t latest = 0;    // high watermark (read_uncommitted end offset)
};

// Everything one cycle learned about one cluster, already filtered.
struct ClusterSample {
  std::vector<Group> groups;
  std::vector<CommittedOffset> committed;
  std::vector<PartitionOffsets> partitions;
};

// One (group, topic, partition) with a committed offset and known
// watermarks.
struct PartitionLag {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  int64_t committed = 0;
  int64_t earliest = 0;
  int64_t latest = 0;
  int64_t lag = 0;
  // From the member whose assignment holds this partition; empty strings
  // when no member owns it.
  std::string member_host;
  std::string consumer_id;
  std::string client_id;
};

struct TopicLag {
  std::string group;
  std::string topic;
  int64_t sum_lag = 0;
};

struct GroupLag {
  std::string group;
  std::string state;
  std::string assignor;
  bool described = false;
  int64_t members = 0;
  // Aggregates over the group's partitions with a lag value; a group with
  // none has has_lag = false and exports no lag aggregates.
  bool has_lag = false;
  int64_t max_lag = 0;
  int64_t sum_lag = 0;
};

// The computed view of one cluster. Vectors are sorted (group, topic,
// partition) so rendering is deterministic.
struct ClusterLag {
  std::vector<PartitionOffsets> partitions;
  std::vector<PartitionLag> partition_lags;
  std::vector<TopicLag> topic_lags;
  std::vector<GroupLag> groups;
};

}  // namespace klag::lag
