// Topic-level admin operations, each waiting until the broker's metadata
// reflects the change so the next step of a test can rely on it.
#pragma once

#include "client.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace klag::workload {

// How long an admin request may take by default.
inline constexpr std::chrono::milliseconds kAdminTimeout{30000};

// Admin options with `timeout` as the request timeout, and as the operation
// timeout for topic creation, deletion and record deletion (the broker then
// answers once the operation completed, not when it started).
AdminOptionsPtr admin_options(rd_kafka_t* rk, rd_kafka_admin_op_t op,
                              std::chrono::milliseconds timeout = kAdminTimeout);

// Waits for the next result event of `type` on an admin call's queue; throws
// on a request-level error or when nothing came within `timeout` + 5 s.
EventPtr await_result(rd_kafka_queue_t* q, rd_kafka_event_type_t type, const std::string& what,
                      std::chrono::milliseconds timeout = kAdminTimeout);

struct PartitionInfo {
  int32_t id;
  int32_t leader;  // -1 while no leader is elected
  rd_kafka_resp_err_t err;
};

// The topic's partitions from a fresh metadata request, or nullopt if the
// cluster does not know the topic. Throws if the request itself fails.
std::optional<std::vector<PartitionInfo>> describe_topic(rd_kafka_t* rk, const std::string& topic,
                                                         std::chrono::milliseconds timeout);

// Number of partitions; throws if the topic does not exist.
int partition_count(rd_kafka_t* rk, const std::string& topic);

enum class CreateOutcome { created, existed };

// CreateTopics with `replication` replicas per partition (1 by default; -1
// takes the broker's default.replication.factor), then waits for
// `partitions` partitions with leaders. An existing topic is an error unless
// `if_not_exists`, and even then its partition count must match.
CreateOutcome create_topic(rd_kafka_t* rk, const std::string& topic, int partitions, const Settings& configs,
                           bool if_not_exists, int replication = 1);

// DeleteTopics, then waits until metadata no longer lists the topic.
// Returns false if the topic did not exist (an error unless `if_exists`).
bool delete_topic(rd_kafka_t* rk, const std::string& topic, bool if_exists);

// DeleteRecords below `before_offset` (-1: up to the high watermark).
// Returns the partition's new log start offset.
int64_t delete_records(rd_kafka_t* rk, const std::string& topic, int32_t partition, int64_t before_offset);

}  // namespace klag::workload
