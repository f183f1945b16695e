// Committing chosen offsets for a consumer group, exactly and verifiably:
// the reference values that lag tests compare against.
#pragma once

#include "client.h"

#include <cstdint>
#include <string>
#include <vector>

namespace klag::workload {

struct OffsetSpec {
  std::string topic;
  int32_t partition;
  int64_t offset;
};

// Parses "TOPIC:PARTITION:OFFSET". Kafka topic names cannot contain ':'.
OffsetSpec parse_offset_spec(const std::string& text);

std::vector<OffsetSpec> parse_offset_specs(const std::vector<std::string>& texts);

// Synchronous commit through `consumer` (a handle with group.id set); fails
// if the commit or any single partition fails.
void commit_offsets(rd_kafka_t* consumer, const std::vector<OffsetSpec>& offsets);

// Reads the committed offsets back (OffsetFetch) and fails on any mismatch.
void verify_committed(rd_kafka_t* consumer, const std::vector<OffsetSpec>& offsets);

}  // namespace klag::workload
