#include "collect/collector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <string_view>

#include "collect/bootstrap.h"

namespace klag::collect {
namespace {

using std::chrono::milliseconds;

class StepTimer {
 public:
  explicit StepTimer(milliseconds& out) : out_(out), start_(kafka::Clock::now()) {}
  ~StepTimer() { out_ = std::chrono::duration_cast<milliseconds>(kafka::Clock::now() - start_); }
  StepTimer(const StepTimer&) = delete;
  StepTimer& operator=(const StepTimer&) = delete;

 private:
  milliseconds& out_;
  kafka::Clock::time_point start_;
};

}  // namespace

size_t carry_forward_offsets(std::map<std::string, KnownOffsets>& last, std::vector<kafka::GroupOffsets> fetched,
                             kafka::Clock::time_point now, std::chrono::milliseconds max_age) {
  size_t errors = 0;
  std::map<std::string, KnownOffsets> next;
  for (auto& g : fetched) {
    if (g.error) {
      ++errors;
      spdlog::debug("{}", g.error->to_string());
      auto it = last.find(g.group);
      // Old offsets joined with new watermarks would show lag growing on a
      // healthy consumer; past max_age no number beats that wrong one.
      if (it != last.end() && now - it->second.fetched_at <= max_age) next.emplace(g.group, std::move(it->second));
    } else {
      next.emplace(g.group, KnownOffsets{std::move(g.offsets), now});
    }
  }
  last = std::move(next);
  return errors;
}

std::vector<std::string> settle_unlisted(const std::set<std::string>& unlisted,
                                         std::vector<kafka::GroupOffsets>& fetched) {
  std::vector<std::string> gone;
  std::erase_if(fetched, [&](const kafka::GroupOffsets& g) {
    if (!unlisted.contains(g.group)) return false;
    const bool is_gone = g.error ? kafka::group_not_found(*g.error) : g.offsets.empty();
    if (is_gone) gone.push_back(g.group);
    return is_gone;
  });
  return gone;
}

std::set<std::string> groups_of_other_types(const kafka::Census& census,
                                            const std::vector<kafka::ListedGroup>& listed) {
  std::set<std::string> consumer;
  for (const auto& g : listed) consumer.insert(g.id);
  std::set<std::string> out;
  for (const auto& g : census.groups) {
    if (consumer.contains(g.id)) continue;
    if (g.protocol_type.empty() || g.protocol_type == "consumer") out.insert(g.id);
  }
  return out;
}

bool settled_by_listing(const kafka::ListedGroup& group) {
  return group.state == "Empty" || group.state == "Dead";
}

lag::Group group_from_listing(const kafka::ListedGroup& group) {
  // What DescribeGroups answers for such a group: Kafka sends protocol ""
  // (the assignor) outside Stable, and an Empty or Dead group has no
  // members by definition.
  return lag::Group{.id = group.id, .state = group.state, .assignor = "", .described = true, .members = {}};
}

lag::Group reconcile_with_listing(lag::Group described, const kafka::ListedGroup& listed) {
  if (!described.described || described.state != "Dead" || !described.members.empty() ||
      settled_by_listing(listed) || described.id != listed.id) {
    return described;
  }
  // The listing's state is the group's own (ListGroups v4 reads it from the
  // coordinator for both protocols), but PreparingRebalance and
  // CompletingRebalance are classic-only: a group listed so and then
  // answered Dead changed under us, so its state now is unknown.
  return lag::Group{.id = std::move(described.id),
                    .state = listed.state == "Stable" ? "Stable" : "Unknown",
                    .assignor = "",
                    .described = false,
                    .members = {}};
}

Collector::Collector(const config::Cluster& cluster, const config::Exporter& exporter,
                     config::NameFilter group_filter, config::NameFilter topic_filter)
    : client_options_{.cluster_name = cluster.name,
                      .bootstrap_servers = cluster.bootstrap_servers,
                      .properties = cluster.consumer_properties},
      group_filter_(std::move(group_filter)),
      topic_filter_(std::move(topic_filter)),
      max_offset_age_(exporter.effective_max_staleness()),
      census_timeout_(std::clamp<std::chrono::milliseconds>(exporter.effective_cycle_timeout(),
                                                            std::chrono::seconds(1), std::chrono::seconds(10))) {
  if (exporter.timestamp_sampling.enabled) {
    sampler_ = std::make_unique<TimeSampler>(client_options_, exporter.timestamp_sampling);
  }
  create_census();
}

void Collector::create_census() {
  auto c = kafka::GroupCensus::create(options_for_new_client(), census_timeout_);
  if (c) {
    census_ = std::move(*c);
    return;
  }
  // Then only consumer groups are collected; said once, tried every cycle.
  spdlog::log(warned_census_ ? spdlog::level::debug : spdlog::level::warn,
              "cluster {}: cannot list groups of other types (Kafka Streams groups on group.protocol=streams will "
              "be missing): {}",
              client_options_.cluster_name, c.error().to_string());
  warned_census_ = true;
}

bool Collector::group_in_scope(const std::string& id) const {
  return group_filter_.matches(id) && (!group_scope_ || group_scope_(id));
}

kafka::ClientOptions Collector::options_for_new_client() const {
  kafka::ClientOptions options = client_options_;
  static const std::vector<std::string> kNone;
  options.bootstrap_servers =
      merge_bootstrap(client_options_.bootstrap_servers, last_metadata_ ? last_metadata_->brokers : kNone);
  return options;
}

std::expected<void, CycleError> Collector::replace_client_if_requests_left_behind() {
  if (!client_ || !client_->requests_left_behind()) return {};
  const auto start = kafka::Clock::now();
  client_.reset();
  auto c = kafka::AdminClient::create(options_for_new_client());
  if (!c) return std::unexpected(CycleError{"connect", c.error()});
  client_ = std::move(*c);
  spdlog::debug("cluster {}: admin requests left unanswered; replaced the admin client in {} ms",
                client_options_.cluster_name,
                std::chrono::duration_cast<std::chrono::milliseconds>(kafka::Clock::now() - start).count());
  return {};
}

std::expected<CycleResult, CycleError> Collector::run(const kafka::Deadline& deadline) {
  auto result = run_steps(deadline);
  // Whatever step the cycle ended in (a failed listing while the broker is
  // away included), no request is left pending on the client.
  if (auto r = replace_client_if_requests_left_behind(); !r) {
    spdlog::debug("cluster {}: {}", client_options_.cluster_name, r.error().to_string());
  }
  return result;
}

std::expected<CycleResult, CycleError> Collector::run_steps(const kafka::Deadline& deadline) {
  if (!client_) {
    auto c = kafka::AdminClient::create(options_for_new_client());
    if (!c) return std::unexpected(CycleError{"connect", c.error()});
    client_ = std::move(*c);
  }
  client_->serve_events();
  CycleResult result;
  StepTimings& t = result.timings;
  PartialErrors& partial = result.partial;
  auto first_error = [&partial](const kafka::Error& e) {
    if (partial.first_error.empty()) partial.first_error = e.to_string();
  };

  // Each group step gets a share of the time left, so one group whose
  // coordinator is slow (loading, or offline during a rolling restart)
  // cannot use up the cycle: metadata and watermarks always keep time, and
  // the slow group is a partial error instead of a failed cycle.
  auto step = [&](double share) {
    const auto now = kafka::Clock::now();
    const auto left = std::max(deadline.at - now, kafka::Clock::duration::zero());
    return kafka::Deadline{.at = now + std::chrono::duration_cast<kafka::Clock::duration>(left * share),
                           .cancel = deadline.cancel};
  };

  // 1. Groups, filtered: consumer groups from ListConsumerGroups, and in
  // the background (it blocks) every group of every type, for the groups
  // of other types whose offsets are consumer offsets (Streams groups).
  std::vector<kafka::ListedGroup> listed;
  std::set<std::string> unlisted;  // listed last cycle, not this one
  std::set<std::string> others;    // listed only by the census
  {
    StepTimer timer(t.list_groups);
    const auto asked = kafka::Clock::now();
    const kafka::Deadline list_deadline = step(0.25);
    if (!census_) create_census();
    // The census ends a tenth before the step, so its answer is in by then.
    if (census_) census_->request(asked + (list_deadline.at - asked) * 9 / 10);
    const int brokers = last_metadata_ ? last_metadata_->broker_count : 0;
    auto listing = client_->list_groups(list_deadline, static_cast<size_t>(std::max(brokers, 0)));
    if (!listing) return std::unexpected(CycleError{"list_groups", listing.error()});
    partial.list_groups = listing->broker_errors.size();
    if (!listing->broker_errors.empty()) first_error(listing->broker_errors.front());
    for (auto& g : listing->groups) {
      if (group_in_scope(g.id)) listed.push_back(std::move(g));
    }
    unlisted = last_groups_;
    for (const auto& g : listed) unlisted.erase(g.id);
    std::erase_if(unlisted, [&](const std::string& id) { return group_scope_ && !group_scope_(id); });

    std::optional<kafka::Census> census;
    if (census_) census = census_->wait(list_deadline);
    // This cycle's answer, complete or not: groups of brokers that did not
    // answer in time are missing, and those seen before are fetched again
    // as unlisted groups below.
    const bool fresh = census && census->started >= asked;
    if (fresh) {
      others = groups_of_other_types(*census, listed);
      std::erase_if(others, [&](const std::string& id) { return !group_in_scope(id); });
      // Known, so not "unlisted": no line about them every cycle.
      for (const auto& id : others) unlisted.erase(id);
    }
    if (census_ && (!fresh || census->error)) {
      const kafka::Error e =
          fresh ? *census->error : kafka::Error::timed_out("ListGroups (all group types): still running");
      spdlog::debug("cluster {}: {}", client_options_.cluster_name, e.to_string());
      // One broker that did not answer shows in both listings: count it once.
      if (partial.list_groups == 0) {
        partial.list_groups = 1;
        first_error(e);
      }
      // librdkafka 2.0.2 keeps asking brokers that left the cluster, so a
      // census that keeps missing answers gets a new handle, bootstrapped
      // from the brokers the cluster names now.
      if (++census_incomplete_ >= kCensusRetries) {
        spdlog::debug("cluster {}: {} census listings in a row incomplete; replacing its client",
                      client_options_.cluster_name, census_incomplete_);
        census_.reset();
        census_incomplete_ = 0;
      }
    } else if (census_) {
      census_incomplete_ = 0;
    }
  }

  // 2. Describe the groups that may have members (state, members,
  // assignments); Empty and Dead ones are settled by the listing.
  std::vector<std::string> group_ids;
  std::set<std::string> dropped;
  {
    StepTimer timer(t.describe_groups);
    std::vector<std::string> to_describe;
    for (const auto& g : listed) {
      group_ids.push_back(g.id);
      if (settled_by_listing(g)) {
        result.sample.groups.push_back(group_from_listing(g));
      } else {
        to_describe.push_back(g.id);
      }
    }
    const size_t settled = result.sample.groups.size();
    auto desc = client_->describe_groups(to_describe, step(0.3));
    if (desc) {
      if (!desc->errors.empty()) first_error(desc->errors.front().second);
      dropped.insert(desc->non_consumer_groups.begin(), desc->non_consumer_groups.end());
      std::move(desc->groups.begin(), desc->groups.end(), std::back_inserter(result.sample.groups));
    } else {
      // Offsets do not depend on the description: carry on with these
      // groups undescribed (state "Unknown", no members) rather than fail.
      first_error(desc.error());
      spdlog::debug("cluster {}: {}", client_options_.cluster_name, desc.error().to_string());
    }
    spdlog::debug("cluster {}: {} groups, {} described, {} settled by ListGroups", client_options_.cluster_name,
                  listed.size(), to_describe.size(), settled);
    // Groups the broker listed but the describe answer left out still count.
    std::set<std::string> described;
    for (const auto& g : result.sample.groups) described.insert(g.id);
    for (const auto& id : to_describe) {
      if (!described.contains(id) && !dropped.contains(id)) result.sample.groups.push_back(lag::Group{.id = id});
    }
    // Whatever the cause (a failed call, a group's error, a group left out
    // of the answer), each group asked about and not described counts.
    partial.groups_described = to_describe.size() - std::min(to_describe.size(), dropped.size());
    partial.describe_groups = static_cast<size_t>(std::count_if(
        result.sample.groups.begin() + static_cast<std::ptrdiff_t>(settled), result.sample.groups.end(),
        [](const lag::Group& g) { return !g.described; }));
    std::erase_if(group_ids, [&](const std::string& id) { return dropped.contains(id); });
    // Groups librdkafka cannot describe (KIP-848) answered a placeholder
    // Dead: not a partial error, as it is the same every cycle.
    if (settled < result.sample.groups.size()) {
      std::map<std::string_view, const kafka::ListedGroup*> by_id;
      for (const auto& g : listed) by_id.emplace(g.id, &g);
      size_t undescribable = 0;
      for (auto it = result.sample.groups.begin() + static_cast<std::ptrdiff_t>(settled);
           it != result.sample.groups.end(); ++it) {
        const auto l = by_id.find(it->id);
        if (l == by_id.end() || !it->described) continue;
        *it = reconcile_with_listing(std::move(*it), *l->second);
        if (!it->described) ++undescribable;
      }
      if (undescribable > 0) {
        spdlog::debug("cluster {}: {} groups listed live but described Dead with no members (KIP-848 groups, which "
                      "librdkafka 2.0.2 cannot describe): exported undescribed, in the listed state or Unknown",
                      client_options_.cluster_name, undescribable);
      }
    }
  }

  // 3. Committed offsets, all groups in flight at once, and those of the
  // groups the listing left out: that answer says whether they are gone.
  std::vector<kafka::GroupOffsets> offsets;
  size_t gone = 0;
  {
    StepTimer timer(t.committed_offsets);
    std::vector<std::string> ids = group_ids;
    ids.insert(ids.end(), unlisted.begin(), unlisted.end());
    ids.insert(ids.end(), others.begin(), others.end());
    offsets = client_->committed_offsets(ids, step(0.5));
    gone = settle_unlisted(unlisted, offsets).size();
    // A group of another type without offsets (a share group, a Streams
    // group deleted since the census) is no group of ours: not an error.
    settle_unlisted(others, offsets);
  }
  // Before the later steps give the connection time to change state.
  if (auto r = replace_client_if_requests_left_behind(); !r) return std::unexpected(r.error());

  // 4. Metadata: which topics and partitions exist, and their leaders.
  // The answer is kept in last_metadata_ (moved, not copied: it lists every
  // partition) and read from there for the rest of the cycle.
  {
    StepTimer timer(t.metadata);
    auto md = client_->metadata(step(0.5));
    const auto now = kafka::Clock::now();
    bool brokers_changed = false;
    if (md) {
      // Replacement clients and timestamp readers bootstrap from the brokers
      // the last answer named (options_for_new_client). One naming none
      // keeps those of the answer before.
      if (md->brokers.empty() && last_metadata_) {
        md->brokers = std::move(last_metadata_->brokers);
      } else {
        brokers_changed = !md->brokers.empty() && (!last_metadata_ || md->brokers != last_metadata_->brokers);
      }
      last_metadata_ = std::move(*md);
      last_metadata_at_ = now;
    } else if (last_metadata_ && now - last_metadata_at_ <= max_offset_age_) {
      // Every attempt went to a broker that was frozen or going away (one
      // of several: the offsets came from the others). Topics and leaders
      // rarely change between cycles, so the last answer (no older than
      // max_staleness) serves this one: a partial error, not a failed cycle.
      first_error(md.error());
      partial.metadata = 1;
    } else {
      return std::unexpected(CycleError{"metadata", md.error()});
    }
    // A single-node cluster needs no second address; a larger one
    // reached through one address cannot start while that broker is down.
    if (!warned_single_bootstrap_ && last_metadata_->broker_count > 1 &&
        bootstrap_count(client_options_.bootstrap_servers) == 1) {
      warned_single_bootstrap_ = true;
      spdlog::warn("cluster {}: bootstrap_servers names one of its {} brokers; while that broker is down a restarted "
                   "exporter cannot reach the cluster: list two or more (once running, the exporter also uses the "
                   "brokers the cluster reports)",
                   client_options_.cluster_name, last_metadata_->broker_count);
    }
    if (brokers_changed && sampler_) sampler_->set_bootstrap_servers(options_for_new_client().bootstrap_servers);
  }
  const kafka::ClusterMetadata& metadata = *last_metadata_;

  // Partitions in scope: every partition of every topic passing the filter.
  std::set<lag::TopicPartition> existing;
  std::vector<lag::TopicPartition> in_scope;
  for (const auto& topic : metadata.topics) {
    if (!topic_filter_.matches(topic.name)) continue;
    for (const auto& p : topic.partitions) {
      in_scope.push_back({topic.name, p.id});
      existing.insert({topic.name, p.id});
    }
  }
  const auto fetched_at = kafka::Clock::now();
  partial.groups_fetched = offsets.size();
  for (const auto& g : offsets) {
    if (g.error) {
      first_error(*g.error);
      break;
    }
  }
  partial.committed_offsets = carry_forward_offsets(last_offsets_, std::move(offsets), fetched_at, max_offset_age_);
  // Unlisted groups that still have offsets (fresh, or carried forward
  // after an error) stay, in state Unknown and undescribed; the rest are
  // gone from this cycle on.
  // Groups of other types are reported once they have committed offsets
  // (a Streams group), in state Unknown and undescribed; a share group
  // (KIP-932) has none in __consumer_offsets and never shows.
  for (const auto& id : others) {
    const auto it = last_offsets_.find(id);
    if (it == last_offsets_.end() || it->second.offsets.empty()) continue;
    result.sample.groups.push_back(lag::Group{.id = id});
    group_ids.push_back(id);
  }
  size_t kept = 0;
  for (const auto& id : unlisted) {
    if (!last_offsets_.contains(id)) continue;
    result.sample.groups.push_back(lag::Group{.id = id});
    group_ids.push_back(id);
    ++kept;
  }
  if (!unlisted.empty()) {
    spdlog::log(kept > 0 ? spdlog::level::info : spdlog::level::debug,
                "cluster {}: {} groups of the last cycle were not listed: {} still have committed offsets and stay "
                "(state Unknown), {} are gone, {} left out (offsets unknown now and older than max_staleness)",
                client_options_.cluster_name, unlisted.size(), kept, gone, unlisted.size() - kept - gone);
  }
  for (const auto& [group, known] : last_offsets_) {
    for (const auto& c : known.offsets) {
      // Offsets of deleted topics (or filtered ones) are dropped here.
      if (!existing.contains({c.topic, c.partition})) continue;
      result.sample.committed.push_back(c);
      result.sample.committed.back().carried = known.fetched_at != fetched_at;
    }
  }

  // 5. Watermarks.
  {
    StepTimer timer(t.watermarks);
    auto marks = client_->watermarks(in_scope, metadata, deadline);
    partial.watermarks = marks.missing;
    partial.partitions = in_scope.size();
    if (marks.missing > 0 && !marks.errors.empty()) first_error(marks.errors.front());
    for (const auto& e : marks.errors) spdlog::debug("watermarks: {}", e.to_string());
    if (marks.partitions.empty() && !in_scope.empty()) {
      return std::unexpected(CycleError{"watermarks", marks.errors.empty()
                                                          ? kafka::Error::timed_out("no partition answered")
                                                          : marks.errors.front()});
    }
    result.sample.partitions = std::move(marks.partitions);
    result.sample.observed_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
    // Only when a partition went unanswered: the usual cycle skips copying
    // every partition's key into a set.
    if (marks.missing > 0) {
      std::set<lag::TopicPartition> answered;
      for (const auto& p : result.sample.partitions) answered.insert({p.topic, p.partition});
      std::set<std::string> incomplete;
      for (const auto& tp : in_scope) {
        if (!answered.contains(tp)) incomplete.insert(tp.topic);
      }
      result.sample.incomplete_topics.assign(incomplete.begin(), incomplete.end());
    }
  }

  // 6. Timestamps for time lag.
  if (sampler_) result.sampling = sampler_->run(result.sample, *client_, deadline);
  last_groups_ = std::set<std::string>(group_ids.begin(), group_ids.end());
  return result;
}

}  // namespace klag::collect
