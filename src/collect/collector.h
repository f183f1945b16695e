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
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/filter.h"
#include "collect/cycle_report.h"
#include "collect/time_sampler.h"
#include "kafka/admin_client.h"
#include "kafka/group_census.h"
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
  PartialErrors partial;
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

// Groups the previous cycle listed that this cycle's listing left out.
// Kafka 4's ListGroups silently skips group coordinators that are not
// loaded yet: right after a broker restart it answered 0 of 2,000 groups,
// with no error. So a group missing from the listing is not taken as gone;
// its committed offsets are fetched like a listed group's, and the answer
// decides. settle_unlisted removes from `fetched` the unlisted groups that
// the coordinator says are gone (answered with no offsets, or
// GROUP_ID_NOT_FOUND), and returns their ids; the others stay in `fetched`
// (with their offsets, or with an error to carry the last ones forward).
std::vector<std::string> settle_unlisted(const std::set<std::string>& unlisted,
                                         std::vector<kafka::GroupOffsets>& fetched);

// The groups of other types to collect: those the census (every group of
// every type, kafka/group_census.h) found that ListConsumerGroups did not
// list, except classic groups of another protocol ("connect", ...). In
// practice Kafka Streams groups on group.protocol=streams (KIP-1071), whose
// offsets are consumer offsets, and share groups (KIP-932), which have
// none and so never show: the census cannot tell the two apart (both are
// described Dead with no protocol type), the committed offsets do.
std::set<std::string> groups_of_other_types(const kafka::Census& census,
                                            const std::vector<kafka::ListedGroup>& listed);

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

// librdkafka 2.0.2 describes groups with DescribeGroups (v4) only, which
// cannot describe a KIP-848 group (group.protocol=consumer, including a
// classic group upgraded online with classic members left in it): the
// broker answers a placeholder, state Dead with no members, although the
// group lives. ConsumerGroupDescribe (API 69) is not in 2.0.2. The rule: a
// group the listing reports in a state other than Empty or Dead (Stable,
// a rebalance, or "Unknown", which is how 2.0.2 names a KIP-848 group's
// Assigning and Reconciling) that DescribeGroups then answers Dead with no
// members is one librdkafka cannot describe. It is exported undescribed
// (no members metric, empty member labels, no assignor) in the state the
// listing gave when a KIP-848 group can have that state and librdkafka
// names it (Stable), else "Unknown": never Dead, never 0 members.
// A classic group that really died between the listing and the describe
// (it went Empty and was deleted, or its coordinator moved) looks the same
// and is reported so for that one cycle; the next listing leaves it out.
// Any other answer is returned unchanged.
lag::Group reconcile_with_listing(lag::Group described, const kafka::ListedGroup& listed);

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
  // The configured bootstrap list, then the brokers the last metadata named.
  kafka::ClientOptions options_for_new_client() const;
  // The group filters and the shard scope.
  bool group_in_scope(const std::string& id) const;

  kafka::ClientOptions client_options_;
  // The last metadata answer and when it came: the cycle's own (moved in),
  // or the one a cycle whose own request failed reuses (see the metadata
  // step). Its brokers (host:port) also bootstrap replacement clients.
  std::optional<kafka::ClusterMetadata> last_metadata_;
  kafka::Clock::time_point last_metadata_at_{};
  bool warned_single_bootstrap_ = false;
  config::NameFilter group_filter_;
  config::NameFilter topic_filter_;
  std::function<bool(const std::string&)> group_scope_;
  std::expected<CycleResult, CycleError> run_steps(const kafka::Deadline& deadline);
  // Destroys and recreates client_ when an admin call left requests
  // unanswered (see AdminClient::requests_left_behind): right after the
  // group steps, and at the end of every cycle, failed ones included. On
  // failure client_ is null and the next cycle creates it.
  std::expected<void, CycleError> replace_client_if_requests_left_behind();

  std::unique_ptr<kafka::AdminClient> client_;
  std::unique_ptr<TimeSampler> sampler_;  // null when sampling is disabled
  std::chrono::milliseconds max_offset_age_;
  // Every group of every type, listed in the background (created with the
  // collector, so its connection is up by the first cycle; kept across
  // cycles and admin client replacements; replaced after kCensusRetries
  // incomplete listings in a row); null while it cannot be created, and
  // then only consumer groups are collected.
  void create_census();
  static constexpr int kCensusRetries = 3;
  std::unique_ptr<kafka::GroupCensus> census_;
  std::chrono::milliseconds census_timeout_;  // socket.timeout.ms of its handle
  int census_incomplete_ = 0;
  bool warned_census_ = false;
  // Committed offsets per group from the latest cycle that fetched them.
  std::map<std::string, KnownOffsets> last_offsets_;
  // The groups of the last successful cycle: those listed, and those kept
  // although the listing left them out (see settle_unlisted).
  std::set<std::string> last_groups_;
};

}  // namespace klag::collect
