// The families from each cluster's history (lag::History): produce and
// consume rates, catch-up times, partition and group status.
#include <algorithm>
#include <string>

#include "metrics/writer.h"

namespace klag::metrics::detail {
namespace {

using config::Granularity;

constexpr Family kProduceRate{"kafka_partition_produce_rate", MetricType::gauge,
                              "Messages per second appended to the partition (to the topic at topic granularity), from the high watermark's movement over the status window."};
constexpr Family kConsumeRate{"kafka_consumergroup_group_consume_rate", MetricType::gauge,
                              "Messages per second the consumer group's committed offset advanced on the partition (on the topic at topic granularity), over the status window."};
constexpr Family kCatchup{"kafka_consumergroup_group_catchup_seconds", MetricType::gauge,
                          "Seconds until the consumer group's lag on the partition (the topic's slowest partition at topic granularity) is gone at the current rates: 0 without lag, +Inf while the consumer is not gaining."};
constexpr Family kPartitionStatus{"kafka_consumergroup_partition_status", MetricType::gauge,
                                  "Burrow-style status of the consumer group on the partition, one-hot: 1 for the current status, 0 for the others (docs/status.md)."};
constexpr Family kGroupStatus{"kafka_consumergroup_group_status", MetricType::gauge,
                              "Burrow-style status of the consumer group (its worst partition), one-hot: 1 for the current status, 0 for the others (docs/status.md)."};
constexpr lag::Status kStatuses[] = {lag::Status::ok,   lag::Status::unknown, lag::Status::warn,
                                     lag::Status::stall, lag::Status::stop,    lag::Status::rewind};

}  // namespace

// Rates, catch-up times and status (lag::History): partition series at
// partition granularity, (group, topic) or topic series at topic
// granularity, group status at both.
void emit_history(Writer& w, const std::vector<ClusterStatus>& clusters, const std::vector<ClusterStatus>& groups_of,
                  const Scope& scope) {
  auto owned = [&scope](const ClusterStatus& c, const std::string& group) { return scope.owns(c.name, group); };
  auto with_history = [](const ClusterStatus& c) { return has_lag(c) && c.lag->has_history; };
  auto by_partition = [](const ClusterStatus& c) { return c.granularity == Granularity::partition; };

  w.header(kProduceRate);
  for (const auto& c : clusters) {
    if (!with_history(c)) continue;
    const auto& parts = c.lag->partitions;
    if (by_partition(c)) {
      for (const auto& p : parts) {
        if (p.has_produce_rate) w.begin(kProduceRate, c).label("topic", p.topic).label("partition", p.partition).value(p.produce_rate);
      }
      continue;
    }
    // A topic's rate only when every partition has one: no partial sums
    // (and none for a topic with a partition whose watermarks were not read).
    const auto& incomplete = c.lag->incomplete_topics;
    for (size_t i = 0; i < parts.size();) {
      size_t j = i;
      bool all = !std::binary_search(incomplete.begin(), incomplete.end(), parts[i].topic);
      double sum = 0;
      for (; j < parts.size() && parts[j].topic == parts[i].topic; ++j) {
        all = all && parts[j].has_produce_rate;
        sum += parts[j].produce_rate;
      }
      if (all) w.begin(kProduceRate, c).label("topic", parts[i].topic).value(sum);
      i = j;
    }
  }

  auto rate_family = [&](const Family& f, double lag::PartitionLag::*of_partition, double lag::TopicLag::*of_topic) {
    w.header(f);
    for (const auto& c : groups_of) {
      if (!with_history(c)) continue;
      if (by_partition(c)) {
        for (const auto& p : c.lag->partition_lags) {
          if (!p.has_rates || !owned(c, p.group)) continue;
          w.begin(f, c).label("group", p.group).label("topic", p.topic).label("partition", p.partition);
          member_labels(w, c, p);
          w.value(p.*of_partition);
        }
      } else {
        for (const auto& t : c.lag->topic_lags) {
          if (t.has_rates && owned(c, t.group)) w.begin(f, c).label("group", t.group).label("topic", t.topic).value(t.*of_topic);
        }
      }
    }
  };
  rate_family(kConsumeRate, &lag::PartitionLag::consume_rate, &lag::TopicLag::consume_rate);
  rate_family(kCatchup, &lag::PartitionLag::catchup_seconds, &lag::TopicLag::catchup_seconds);

  // One-hot: a series per status, 1 for the current one.
  w.header(kPartitionStatus);
  for (const auto& c : groups_of) {
    if (!with_history(c) || !by_partition(c) || !c.partition_status) continue;
    for (const auto& p : c.lag->partition_lags) {
      if (!owned(c, p.group)) continue;
      for (auto s : kStatuses) {
        w.begin(kPartitionStatus, c).label("group", p.group).label("topic", p.topic).label("partition", p.partition)
            .label("status", lag::to_string(s)).value(int64_t{s == p.status ? 1 : 0});
      }
    }
  }
  w.header(kGroupStatus);
  for (const auto& c : groups_of) {
    if (!with_history(c)) continue;
    for (const auto& g : c.lag->groups) {
      if (!g.has_status || !owned(c, g.group)) continue;
      for (auto s : kStatuses) {
        w.begin(kGroupStatus, c).label("group", g.group).label("status", lag::to_string(s)).value(int64_t{s == g.status ? 1 : 0});
      }
    }
  }
}

}  // namespace klag::metrics::detail
