// The exporter's read-only view of one Kafka cluster: consumer groups,
// committed offsets, metadata and watermarks, as plain data.
//
// Owns one librdkafka handle (consumer type, never subscribed, with
// isolation.level=read_uncommitted so end offsets are high watermarks).
// Not thread-safe: one collection thread owns an AdminClient. Every call is
// bounded by a Deadline and returns early when the deadline's cancel flag
// is set.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kafka/error.h"
#include "lag/model.h"

struct rd_kafka_s;

namespace klag::kafka {

using Clock = std::chrono::steady_clock;

struct Deadline {
  Clock::time_point at;
  const std::atomic<bool>* cancel = nullptr;

  std::chrono::milliseconds remaining() const;
  bool expired() const;  // past `at`, or cancelled
};

struct ClientOptions {
  std::string cluster_name;  // for log lines only
  std::string bootstrap_servers;
  // User-supplied librdkafka properties (security, SASL, SSL, ...).
  std::map<std::string, std::string> properties;
};

// One group as ListGroups reports it.
struct ListedGroup {
  std::string id;
  // Kafka's state name ("Empty", "Stable", "Dead", ...) from ListGroups v4
  // and later; "Unknown" when the broker did not say (an older ListGroups),
  // for states librdkafka 2.0.2 has no name for (a KIP-848 group's
  // "Assigning", "Reconciling"), and when two brokers listed the group in
  // different states.
  std::string state = "Unknown";
};

struct GroupListing {
  // De-duplicated, sorted by id. Only groups whose protocol type is
  // "consumer" or empty: librdkafka drops the others (Connect, ...) itself.
  std::vector<ListedGroup> groups;
  // Brokers that failed to answer. The listing may then be incomplete.
  std::vector<Error> broker_errors;
};

// Whether a ListGroups fan-out failed as a whole rather than in part.
// librdkafka 2.0.2 reports one error per broker that failed but not how
// many brokers it asked, and a broker that answered with no groups leaves
// no trace. So it failed when nothing was listed and there were at least
// as many errors as `known_brokers` (a cluster that lost brokers since is
// taken as answered in part: the later steps fail if it is really gone);
// with `known_brokers` 0 (no metadata yet) nothing listed and any error
// fails it, as no broker can be shown to have answered.
bool listing_failed(size_t listed, size_t broker_errors, size_t known_brokers);

struct GroupDescriptions {
  std::vector<lag::Group> groups;  // described ones have described = true
  // Groups whose protocol type is not "consumer" (Connect, Streams'
  // internal ones...). Not consumer groups: callers drop them.
  std::vector<std::string> non_consumer_groups;
  std::vector<std::pair<std::string, Error>> errors;
};

struct GroupOffsets {
  std::string group;
  std::vector<lag::CommittedOffset> offsets;  // only partitions with a commit
  std::optional<Error> error;  // set when this group's offsets are unknown
};

struct PartitionMetadata {
  int32_t id = 0;
  int32_t leader = -1;
};

struct TopicMetadata {
  std::string name;
  std::vector<PartitionMetadata> partitions;
};

struct ClusterMetadata {
  std::vector<TopicMetadata> topics;  // topics without errors, sorted by name
  int broker_count = 0;
  // host:port of every broker, sorted: a replacement client bootstraps from
  // these too, not only from the configured addresses.
  std::vector<std::string> brokers;
};

struct Watermarks {
  std::vector<lag::PartitionOffsets> partitions;
  // Partitions asked for but not answered (leader down, timeout).
  size_t missing = 0;
  std::vector<Error> errors;
};

class AdminClient {
 public:
  static std::expected<std::unique_ptr<AdminClient>, Error> create(const ClientOptions& options);
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;
  AdminClient(AdminClient&&) = delete;
  AdminClient& operator=(AdminClient&&) = delete;

  // Serves the handles' main event queues (unsolicited errors), so they do
  // not accumulate. Call once per cycle.
  void serve_events();

  // ListConsumerGroups on every broker. Fails when the request failed, or
  // when every broker did (see listing_failed; `known_brokers` is how many
  // the last metadata answer named, 0 before the first); otherwise the
  // brokers that failed are in broker_errors.
  std::expected<GroupListing, Error> list_groups(const Deadline& deadline, size_t known_brokers);

  // DescribeConsumerGroups for all ids in one call.
  std::expected<GroupDescriptions, Error> describe_groups(const std::vector<std::string>& ids,
                                                          const Deadline& deadline);

  // ListConsumerGroupOffsets takes one group per call in librdkafka 2.0.2,
  // so this fires one call per group, all at once on a private queue, and
  // collects the answers until the deadline.
  std::vector<GroupOffsets> committed_offsets(const std::vector<std::string>& ids,
                                              const Deadline& deadline);

  // True once an admin call (list, describe, committed offsets, configs)
  // returned with requests unanswered at the deadline, or answered only by
  // librdkafka's own request timeout (the request it started may still be
  // in flight, or waiting for a broker; the admin timeout ends a fifth of
  // the time before our deadline, so a fan-out call still returns what the
  // other brokers answered). librdkafka 2.0.2
  // aborts the process (enq_once refcount assertion, librdkafka issue 4605)
  // or crashes (SIGSEGV in its main thread) when such requests are still
  // pending as a broker connection times out or a broker comes back; the
  // caller must then destroy this client before that can happen.
  bool requests_left_behind() const { return requests_left_behind_; }

  // Whether each topic's cleanup.policy includes "compact" (DescribeConfigs,
  // one call for all topics). Topics that failed are left out.
  std::expected<std::map<std::string, bool>, Error> compacted_topics(const std::vector<std::string>& topics,
                                                                     const Deadline& deadline);

  // Metadata of every topic.
  std::expected<ClusterMetadata, Error> metadata(const Deadline& deadline);

  // Log start, high watermark and last stable offset of `partitions`, with
  // offsets_for_times calls of at most 250 partitions of one leader each
  // (one ListOffsets request apiece), four in flight at once. A call fails
  // as a whole, so a failing leader costs only its own partitions, which
  // are reported as missing. (librdkafka 2.0.2 matches answers to the
  // request by linear search, so larger calls cost quadratic CPU.)
  Watermarks watermarks(const std::vector<lag::TopicPartition>& partitions,
                        const ClusterMetadata& metadata, const Deadline& deadline);

 private:
  struct Impl;
  explicit AdminClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  bool requests_left_behind_ = false;
};

}  // namespace klag::kafka
