#include "lag/compute.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace klag::lag {
namespace {

// (group, topic, partition) -> member owning it. Keys point into `groups`.
using OwnerKey = std::tuple<std::string_view, std::string_view, int32_t>;

std::map<OwnerKey, const Member*> index_owners(const std::vector<Group>& groups) {
  std::map<OwnerKey, const Member*> owners;
  for (const auto& g : groups) {
    for (const auto& m : g.members) {
      for (const auto& tp : m.assignment) {
        owners.emplace(OwnerKey{g.id, tp.topic, tp.partition}, &m);
      }
    }
  }
  return owners;
}

}  // namespace

double lag_retention_ratio(int64_t latest, int64_t earliest, int64_t committed) {
  const int64_t window = latest - earliest;
  if (window <= 0) return 0;
  return static_cast<double>(offset_lag(latest, committed)) / static_cast<double>(window) * 100.0;
}

ClusterLag compute(const ClusterSample& sample, int64_t now_unix_ms) {
  ClusterLag out;
  out.partitions = sample.partitions;
  out.incomplete_topics = sample.incomplete_topics;
  std::sort(out.incomplete_topics.begin(), out.incomplete_topics.end());
  std::sort(out.partitions.begin(), out.partitions.end(), [](const auto& a, const auto& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });

  std::map<std::pair<std::string_view, int32_t>, const PartitionOffsets*> marks;
  for (const auto& p : out.partitions) marks.emplace(std::pair{std::string_view(p.topic), p.partition}, &p);

  const auto owners = index_owners(sample.groups);
  std::map<std::tuple<std::string_view, int32_t, int64_t>, const OffsetTimestamp*> stamps;
  for (const auto& t : sample.timestamps) stamps.emplace(std::tuple{std::string_view(t.topic), t.partition, t.offset}, &t);
  const std::set<std::string_view> compacted(sample.compacted_topics.begin(), sample.compacted_topics.end());

  // A commit without watermarks (its leader did not answer) makes the
  // group's and the (group, topic)'s totals partial: they are left out
  // rather than shown too low.
  std::set<std::string_view> partial_groups;
  std::set<std::pair<std::string_view, std::string_view>> partial_topics;
  out.partition_lags.reserve(sample.committed.size());
  for (const auto& c : sample.committed) {
    auto it = marks.find({c.topic, c.partition});
    if (it == marks.end()) {
      partial_groups.insert(c.group);
      partial_topics.insert({c.group, c.topic});
      continue;
    }
    const PartitionOffsets& w = *it->second;
    PartitionLag pl{.group = c.group,
                    .topic = c.topic,
                    .partition = c.partition,
                    .committed = c.offset,
                    .earliest = w.earliest,
                    .latest = w.latest,
                    .lag = offset_lag(w.latest, c.offset),
                    .stable = w.stable,
                    .stable_lag = w.stable >= 0 ? offset_lag(w.stable, c.offset) : -1,
                    .data_loss = c.offset < w.earliest,
                    .messages_lost = std::max<int64_t>(0, w.earliest - c.offset),
                    .retention_margin = c.offset - w.earliest,
                    .lag_retention_ratio = lag_retention_ratio(w.latest, w.earliest, c.offset),
                    .carried = c.carried};
    if (pl.data_loss) ++out.data_loss_partitions;
    if (sample.timestamps_enabled) {
      if (pl.lag == 0) {
        pl.has_lag_seconds = true;
      } else if (auto st = stamps.find({c.topic, c.partition, time_lag_read_offset(c.offset, w.earliest)});
                 st != stamps.end()) {
        const OffsetTimestamp& t = *st->second;
        pl.has_lag_seconds = true;
        pl.lag_seconds = static_cast<double>(std::max<int64_t>(0, now_unix_ms - t.timestamp_ms)) / 1000.0;
        pl.compaction_detected = t.returned_offset > t.offset && compacted.contains(c.topic);
        if (pl.compaction_detected) ++out.compaction_partitions;
      }
    }
    if (auto o = owners.find({c.group, c.topic, c.partition}); o != owners.end()) {
      pl.member_host = o->second->host;
      pl.consumer_id = o->second->consumer_id;
      pl.client_id = o->second->client_id;
    }
    out.partition_lags.push_back(std::move(pl));
  }
  std::sort(out.partition_lags.begin(), out.partition_lags.end(), [](const auto& a, const auto& b) {
    return std::tie(a.group, a.topic, a.partition) < std::tie(b.group, b.topic, b.partition);
  });

  // Groups: every listed group, plus groups known only from their commits.
  std::map<std::string_view, GroupLag> groups;
  for (const auto& g : sample.groups) {
    groups.emplace(g.id, GroupLag{.group = g.id,
                                  .state = g.state,
                                  .assignor = g.assignor,
                                  .described = g.described,
                                  .members = static_cast<int64_t>(g.members.size())});
  }
  for (const auto& c : sample.committed) {
    groups.try_emplace(c.group, GroupLag{.group = c.group, .state = "Unknown"});
  }
  // The max time lag is likewise only shown when every partition of the
  // group has a time lag: a lagging partition whose sample timed out must
  // not leave a caught-up partition's 0 as the group's maximum.
  std::set<std::string_view> partial_seconds(partial_groups.begin(), partial_groups.end());
  for (const auto& pl : out.partition_lags) {
    GroupLag& g = groups.at(pl.group);
    g.has_lag = true;
    g.max_lag = std::max(g.max_lag, pl.lag);
    g.sum_lag += pl.lag;
    if (pl.has_lag_seconds) {
      g.has_lag_seconds = true;
      g.max_lag_seconds = std::max(g.max_lag_seconds, pl.lag_seconds);
    } else {
      partial_seconds.insert(pl.group);
    }
    if (partial_topics.contains({pl.group, pl.topic})) continue;
    if (out.topic_lags.empty() || out.topic_lags.back().group != pl.group ||
        out.topic_lags.back().topic != pl.topic) {
      out.topic_lags.push_back(TopicLag{.group = pl.group, .topic = pl.topic});
    }
    out.topic_lags.back().sum_lag += pl.lag;
  }
  out.groups.reserve(groups.size());
  for (auto& [id, g] : groups) {
    if (partial_groups.contains(id)) {
      g.has_lag = false;
      g.max_lag = g.sum_lag = 0;
    }
    if (partial_seconds.contains(id)) {
      g.has_lag_seconds = false;
      g.max_lag_seconds = 0;
    }
    out.groups.push_back(std::move(g));
  }
  return out;
}

}  // namespace klag::lag
