// The plain data one collection cycle produces and the lag computation
// consumes. No librdkafka types and no I/O: every stage can use these.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "lag/status.h"

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
  // Carried from an earlier cycle because this cycle's OffsetFetch for the
  // group failed: served as lag, but not a new observation of the group.
  bool carried = false;
};

struct PartitionOffsets {
  std::string topic;
  int32_t partition = 0;
  int64_t earliest = 0;  // log start offset
  int64_t latest = 0;    // high watermark (read_uncommitted end offset)
  int64_t stable = -1;   // last stable offset (read_committed end); -1 unknown
  // High-watermark movement over the history window (lag::History);
  // absent before two observations.
  bool has_produce_rate = false;
  double produce_rate = 0;
};

// The timestamp of the record read at `offset` for time lag.
struct OffsetTimestamp {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;           // the offset asked for
  int64_t timestamp_ms = 0;     // the record's timestamp, Unix ms
  int64_t returned_offset = 0;  // the record actually read; > offset when records were removed
  auto key() const { return std::tie(topic, partition, offset); }
};

// Everything one cycle learned about one cluster, already filtered.
struct ClusterSample {
  std::vector<Group> groups;
  std::vector<CommittedOffset> committed;
  std::vector<PartitionOffsets> partitions;
  // Time lag: false when sampling is disabled, so no lag_seconds at all.
  bool timestamps_enabled = false;
  std::vector<OffsetTimestamp> timestamps;
  std::vector<std::string> compacted_topics;  // cleanup.policy includes compact
  // Topics in scope with a partition whose watermarks were not read.
  std::vector<std::string> incomplete_topics;
  // When the offsets and watermarks were read (Unix ms; 0 = unknown): the
  // time of this cycle's observation for rates and status.
  int64_t observed_unix_ms = 0;
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
  // Last stable offset and max(0, LSO - committed); -1 when the LSO is
  // unknown.
  int64_t stable = -1;
  int64_t stable_lag = -1;
  // Retention: the committed offset is below the log start, so the records
  // between them were deleted before the group read them.
  bool data_loss = false;
  int64_t messages_lost = 0;     // max(0, earliest - committed)
  int64_t retention_margin = 0;  // committed - earliest (negative on loss)
  double lag_retention_ratio = 0;  // lag / (latest - earliest) * 100
  // Time lag: age of the first unconsumed record (of the record at the log
  // start on data loss, a lower bound then). 0 when lag is 0; absent when
  // the record's timestamp could not be read this cycle.
  bool has_lag_seconds = false;
  double lag_seconds = 0;
  // The record read came after the one asked for, on a compacted topic: the
  // time lag is understated.
  bool compaction_detected = false;
  // From the member whose assignment holds this partition; empty strings
  // when no member owns it.
  std::string member_host;
  std::string consumer_id;
  std::string client_id;
  // The committed offset is from an earlier cycle (CommittedOffset::carried).
  bool carried = false;
  // From the history window (lag::History): status, always set (unknown
  // until the window is full); rates and catch-up time once the window
  // holds two observations.
  Status status = Status::unknown;
  bool has_rates = false;
  double produce_rate = 0;
  double consume_rate = 0;
  double catchup_seconds = 0;  // +Inf while the consumer is not gaining
};

struct TopicLag {
  std::string group;
  std::string topic;
  int64_t sum_lag = 0;
  // Over the (group, topic)'s partitions, set only when every one of them
  // has rates: the sum of their consume rates, and the longest catch-up
  // time (the topic is caught up when its last partition is).
  bool has_rates = false;
  double consume_rate = 0;
  double catchup_seconds = 0;
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
  bool has_lag_seconds = false;
  double max_lag_seconds = 0;
  // The worst status of the group's partitions; only with has_lag.
  bool has_status = false;
  Status status = Status::unknown;
};

// The computed view of one cluster. Vectors are sorted (group, topic,
// partition) so rendering is deterministic.
struct ClusterLag {
  // Status, rates and catch-up times were filled in by lag::History
  // (consumer_status.enabled).
  bool has_history = false;
  // (group, partition) pairs whose committed offset is below the log start.
  int64_t data_loss_partitions = 0;
  // (group, partition) pairs whose time lag is understated by compaction.
  int64_t compaction_partitions = 0;
  std::vector<PartitionOffsets> partitions;
  std::vector<std::string> incomplete_topics;  // sorted; see ClusterSample
  std::vector<PartitionLag> partition_lags;
  std::vector<TopicLag> topic_lags;
  std::vector<GroupLag> groups;
};

}  // namespace klag::lag
