// Membership of a consumer group on a coordination topic: the way replicas
// of the exporter share work through Kafka's own group coordinator (leader
// election and sharding). Subscribes, never reads a record, never commits.
//
// Not thread-safe: one thread (the HA loop) creates, polls and destroys it.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kafka/admin_client.h"
#include "kafka/error.h"

namespace klag::kafka {

struct MemberOptions {
  ClientOptions client;  // brokers and security properties of the hosting cluster
  std::string client_id;
  std::string group;
  std::string topic;
  int partitions = 1;  // used when the topic has to be created
  std::chrono::milliseconds session_timeout{10000};
};

class GroupMember {
 public:
  // Creates the topic if it is missing (with options.partitions partitions),
  // reads its partition count and subscribes. Fails when the brokers cannot
  // be reached within `timeout`, or soon after `stopping` turns true (no
  // call blocks for more than half a second).
  static std::expected<std::unique_ptr<GroupMember>, Error> join(const MemberOptions& options,
                                                                 std::chrono::milliseconds timeout,
                                                                 const std::function<bool()>& stopping);
  // Leaves the group (so a peer takes over at once), bounded by ~1 s.
  ~GroupMember();
  GroupMember(const GroupMember&) = delete;
  GroupMember& operator=(const GroupMember&) = delete;
  GroupMember(GroupMember&&) = delete;
  GroupMember& operator=(GroupMember&&) = delete;

  // Serves the group protocol (join, sync, heartbeats, rebalances) for up to
  // `timeout`, then returns the partitions currently assigned, sorted.
  std::vector<int32_t> poll(std::chrono::milliseconds timeout);
  int topic_partitions() const { return topic_partitions_; }

 private:
  struct Impl;
  GroupMember(std::unique_ptr<Impl> impl, int partitions);
  std::unique_ptr<Impl> impl_;
  int topic_partitions_;
};

}  // namespace klag::kafka
