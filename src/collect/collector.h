// One collection cycle for one cluster: list, describe, committed offsets,
// metadata and watermarks, filtered, as plain data.
//
// Owns the cluster's AdminClient (created on first use and kept, so
// librdkafka's connections survive between cycles). Not thread-safe: the
// cluster's loop thread is its only caller.
#pragma once

#include <chrono>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "config/filter.h"
#include "collect/time_sampler.h"
#include "kafka/admin_client.h"
#include "lag/model.h"

namespace klag::collect {

// Wall time spent in each step of a cycle, for the exporter's own metrics.
struct StepTimings {
  std::chrono::milliseconds list_groups{0};
  std::chrono::milliseconds describe_groups{0};
  std::chrono::milliseconds committed_offsets{0};
  std::chrono::milliseconds metadata{0};
  std::chrono::milliseconds watermarks{0};
};

struct CycleResult {
  lag::ClusterSample sample;
  StepTimings timings;
  SamplingStats sampling;
  // Data that is missing although the cycle as a whole worked (a group whose
  // offsets timed out, a leader that did not answer). Counted, not fatal.
  size_t partial_errors = 0;
};

struct CycleError {
  std::string step;  // "list_groups", "metadata", ...
  kafka::Error error;
  std::string to_string() const { return step + ": " + error.to_string(); }
};

struct KnownOffsets {
  std::vector<lag::CommittedOffset> offsets;
  kafka::Clock::time_point fetched_at;
};

// Merges one cycle's committed-offset answers into `last` (group -> offsets
// from the latest cycle that fetched them). A group whose fetch failed keeps
// its previous offsets for up to `max_age` rather than having its series
// vanish for a cycle; groups not in `fetched` (deleted, or filtered out) are
// forgotten. Returns the number of failed groups.
size_t carry_forward_offsets(std::map<std::string, KnownOffsets>& last, std::vector<kafka::GroupOffsets> fetched,
                             kafka::Clock::time_point now, std::chrono::milliseconds max_age);

// Whether ListGroups' state says all that DescribeGroups would: a group
// that is Empty (or Dead) has no members, hence no assignments and no
// chosen assignor, and the broker describes it with exactly that. Such
// groups skip DescribeGroups (and its FindCoordinator): two requests fewer
// per group and cycle. A member that joins between the listing and the
// describe step is seen one cycle later.
bool settled_by_listing(const kafka::ListedGroup& group);

// The group as DescribeConsumerGroups returns one that settled_by_listing
// accepts: its state, no assignor, no members, described.
lag::Group group_from_listing(const kafka::ListedGroup& group);

class Collector {
 public:
  // Filters are compiled by the caller from the validated config.
  Collector(const config::Cluster& cluster, const config::Exporter& exporter, config::NameFilter group_filter,
            config::NameFilter topic_filter);
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;
  Collector(Collector&&) = delete;
  Collector& operator=(Collector&&) = delete;

  std::expected<CycleResult, CycleError> run(const kafka::Deadline& deadline);

  // Sharding: only groups for which `in_scope` returns true are collected.
  // Set before the first run(); called from the loop thread.
  void set_group_scope(std::function<bool(const std::string&)> in_scope) { group_scope_ = std::move(in_scope); }

 private:
  kafka::ClientOptions client_options_;
  config::NameFilter group_filter_;
  config::NameFilter topic_filter_;
  std::function<bool(const std::string&)> group_scope_;
  // Destroys and recreates client_ when a group step left coordinator
  // requests unanswered (see AdminClient::coordinator_requests_pending).
  std::expected<void, CycleError> replace_client_if_requests_pending();

  std::unique_ptr<kafka::AdminClient> client_;
  std::unique_ptr<TimeSampler> sampler_;  // null when sampling is disabled
  std::chrono::milliseconds max_offset_age_;
  // Committed offsets per group from the latest cycle that fetched them.
  std::map<std::string, KnownOffsets> last_offsets_;
};

}  // namespace klag::collect
