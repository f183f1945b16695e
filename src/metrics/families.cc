#include "metrics/families.h"

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <utility>

#include "lag/shard.h"
#include "metrics/writer.h"

namespace klag::metrics {
namespace {

using collect::ClusterStatus;
using config::Granularity;
using detail::has_lag;
using detail::member_labels;
using detail::Writer;

constexpr Family kUp{"kafka_lag_exporter_up", MetricType::gauge,
                     "1 when the last collection cycle of the cluster succeeded (unlabelled: 1 while the exporter serves)."};
constexpr Family kLastUpdate{"kafka_lag_exporter_last_update_timestamp_seconds", MetricType::gauge,
                             "Unix time at which the cluster's last successful collection cycle ended."};
constexpr Family kCycleDuration{"kafka_lag_exporter_scrape_duration_seconds", MetricType::gauge,
                                "Duration of the cluster's last collection cycle in seconds."};
constexpr Family kCycles{"kafka_lag_exporter_cycles_total", MetricType::counter,
                         "Collection cycles run for the cluster."};
constexpr Family kFailedCycles{"kafka_lag_exporter_cycle_failures_total", MetricType::counter,
                               "Collection cycles of the cluster that failed."};
constexpr Family kStale{"kafka_lag_exporter_stale", MetricType::gauge,
                        "1 when the cluster's lag series come from an earlier cycle because the last one failed."};
constexpr Family kPollTime{"kafka_consumergroup_poll_time_ms", MetricType::gauge,
                           "Milliseconds the last cycle spent fetching committed offsets, metadata and watermarks."};
constexpr Family kLatest{"kafka_partition_latest_offset", MetricType::gauge, "High watermark offset of the partition."};
constexpr Family kEarliest{"kafka_partition_earliest_offset", MetricType::gauge, "Log start offset of the partition."};
constexpr Family kStable{"kafka_partition_last_stable_offset", MetricType::gauge,
                         "Last stable offset of the partition: the end a read_committed consumer sees; below the high watermark while a transaction is open."};
constexpr Family kGroupOffset{"kafka_consumergroup_group_offset", MetricType::gauge,
                              "Offset committed by the consumer group for the partition."};
constexpr Family kGroupLag{"kafka_consumergroup_group_lag", MetricType::gauge,
                           "Offset lag of the consumer group on the partition: high watermark minus committed offset."};
constexpr Family kStableLag{"kafka_consumergroup_group_stable_lag", MetricType::gauge,
                              "Offset lag against the last stable offset: what a read_committed consumer can still read."};
constexpr Family kMessagesLost{"kafka_consumergroup_group_messages_lost", MetricType::gauge,
                               "Records deleted by retention before the group read them: log start minus committed offset, at least 0."};
constexpr Family kRetentionMargin{"kafka_consumergroup_group_retention_margin", MetricType::gauge,
                                  "Committed offset minus log start offset; negative once retention deleted unread records."};
constexpr Family kRetentionRatio{"kafka_consumergroup_group_lag_retention_ratio", MetricType::gauge,
                                 "Offset lag as a percentage of the retained log (high watermark minus log start); above 100 means data loss."};
constexpr Family kDataLossPartitions{"kafka_lag_exporter_data_loss_partitions_total", MetricType::gauge,
                                     "Group partitions whose committed offset is below the log start offset, in the last cycle."};
constexpr Family kLagSeconds{"kafka_consumergroup_group_lag_seconds", MetricType::gauge,
                              "Time lag: age in seconds of the first unconsumed record (of the oldest retained one on data loss); 0 when caught up."};
constexpr Family kMaxLagSeconds{"kafka_consumergroup_group_max_lag_seconds", MetricType::gauge,
                                "Largest time lag of the consumer group across its partitions, in seconds."};
constexpr Family kCompactionPartitions{"kafka_lag_exporter_compaction_detected_total", MetricType::gauge,
                                       "Group partitions whose time lag is understated because compaction removed the record at the committed offset, in the last cycle."};
constexpr Family kTsReads{"kafka_lag_exporter_timestamp_samples_total", MetricType::counter,
                          "Offsets whose record timestamp was fetched from Kafka for time lag (one per distinct uncached offset, answered or not)."};
constexpr Family kTsHits{"kafka_lag_exporter_timestamp_cache_hits_total", MetricType::counter,
                         "Record timestamps for time lag served from the cache."};
constexpr Family kTsTimeouts{"kafka_lag_exporter_timestamp_timeouts_total", MetricType::counter,
                             "Record timestamps not read before the sampling deadline (no time lag for them that cycle)."};
constexpr Family kTsDenied{"kafka_lag_exporter_timestamp_denied_total", MetricType::counter,
                           "Record timestamps not read because the exporter may not read their topic (no Read ACL; no time lag for them that cycle)."};
constexpr Family kTsBytes{"kafka_lag_exporter_timestamp_fetch_bytes_total", MetricType::counter,
                          "Key and value bytes of the records the timestamp reader received (a lower bound on bytes fetched: record and protocol overhead are not counted)."};
constexpr Family kTsDuration{"kafka_lag_exporter_timestamp_sampling_duration_seconds", MetricType::gauge,
                             "Time the last cycle spent reading record timestamps."};
constexpr Family kMaxLag{"kafka_consumergroup_group_max_lag", MetricType::gauge,
                         "Largest offset lag of the consumer group across its partitions."};
constexpr Family kSumLag{"kafka_consumergroup_group_sum_lag", MetricType::gauge,
                         "Sum of the consumer group's offset lag across its partitions."};
constexpr Family kTopicSumLag{"kafka_consumergroup_group_topic_sum_lag", MetricType::gauge,
                              "Sum of the consumer group's offset lag across the partitions of one topic."};
constexpr Family kGroupInfo{"kafka_consumergroup_group_info", MetricType::gauge,
                            "Consumer group state and partition assignor; always 1."};
constexpr Family kOtlpExports{"kafka_lag_exporter_otlp_exports_total", MetricType::counter,
                              "OTLP export batches by outcome: success, failure (given up), dropped (replaced by a newer batch)."};
constexpr Family kLeader{"kafka_lag_exporter_leader", MetricType::gauge,
                         "1 when this replica is the leader and serves lag, 0 while it stands by."};
constexpr Family kShardsOwned{"kafka_lag_exporter_shards_owned", MetricType::gauge,
                              "Shards of the consumer groups this replica collects (sharding)."};
constexpr Family kReloadOk{"kafka_lag_exporter_config_last_reload_successful", MetricType::gauge,
                           "1 when the last config reload succeeded (or none was asked for), 0 when it was rejected."};
constexpr Family kReloadTime{"kafka_lag_exporter_config_last_reload_success_timestamp_seconds", MetricType::gauge,
                             "Unix time of the last successful config load (start or reload)."};
constexpr Family kGroupState{"kafka_consumergroup_group_state", MetricType::gauge,
                             "State of the consumer group as a number: 0 Unknown, 1 PreparingRebalance, 2 CompletingRebalance, 3 Stable, 4 Dead, 5 Empty, 6 Assigning, 7 Reconciling."};
constexpr Family kMembers{"kafka_consumergroup_group_members", MetricType::gauge, "Number of members in the consumer group."};

// Its help names every kind (collect::kPartialErrorKinds), so it is built
// once, on first use.
const Family& partial_errors_family() {
  static const std::string help = [] {
    std::string h = "What successful cycles of the cluster could not read, by kind: ";
    for (const auto& k : collect::kPartialErrorKinds) {
      if (&k != &collect::kPartialErrorKinds.front()) h += ", ";
      h.append(k.name).append(" (").append(k.help).append(")");
    }
    return h + ".";
  }();
  static const Family family{"kafka_lag_exporter_cycle_partial_errors_total", MetricType::counter, help.c_str()};
  return family;
}

}  // namespace

int64_t group_state_code(std::string_view state) {
  // The reference's numbers, so its dashboards and alerts keep working.
  static constexpr std::string_view kCodes[] = {"Unknown", "PreparingRebalance", "CompletingRebalance", "Stable",
                                                "Dead",    "Empty",              "Assigning",           "Reconciling"};
  for (size_t i = 1; i < std::size(kCodes); ++i) {
    if (state == kCodes[i]) return static_cast<int64_t>(i);
  }
  return 0;
}

bool Scope::owns(std::string_view cluster, std::string_view group) const {
  if (shards.empty()) return true;
  return shards[lag::shard_of(cluster, group, static_cast<uint32_t>(shards.size()))];
}

void emit_metrics(const std::vector<ClusterStatus>& all_clusters, SeriesSink& sink, const ExporterStats& stats) {
  Writer w(sink);
  const Scope& scope = stats.scope;
  // A standby serves no cluster at all; with sharding, the cluster-wide
  // families come from shard 0's owner only, and group series from the
  // owner of the group's shard.
  static const std::vector<ClusterStatus> kNone;
  const bool owns_any = !scope.sharded() || std::find(scope.shards.begin(), scope.shards.end(), true) != scope.shards.end();
  const std::vector<ClusterStatus>& groups_of = scope.standby || !owns_any ? kNone : all_clusters;
  const std::vector<ClusterStatus>& clusters = scope.cluster_families() ? groups_of : kNone;
  auto owned = [&scope](const ClusterStatus& c, const std::string& group) { return scope.owns(c.name, group); };

  w.header(kUp);
  // The unlabelled series: 1 while the process serves.
  sink.begin_series();
  sink.value(int64_t{1});
  for (const auto& c : clusters) w.begin(kUp, c).value(int64_t{c.up ? 1 : 0});

  w.header(kLastUpdate);
  for (const auto& c : clusters) {
    if (c.last_success_unix_seconds > 0) w.begin(kLastUpdate, c).value(c.last_success_unix_seconds);
  }
  w.header(kCycleDuration);
  for (const auto& c : clusters) {
    if (c.first_cycle_done) w.begin(kCycleDuration, c).value(c.last_cycle_seconds);
  }
  w.header(kCycles);
  for (const auto& c : clusters) w.begin(kCycles, c).value(static_cast<int64_t>(c.cycles));
  w.header(kFailedCycles);
  for (const auto& c : clusters) w.begin(kFailedCycles, c).value(static_cast<int64_t>(c.failed_cycles));
  const Family& partial_errors = partial_errors_family();
  w.header(partial_errors);
  for (const auto& c : clusters) {
    for (const auto& k : collect::kPartialErrorKinds) {
      w.begin(partial_errors, c).label("kind", k.name).value(static_cast<int64_t>(c.partial_errors_total.*k.total));
    }
  }
  w.header(kStale);
  for (const auto& c : clusters) w.begin(kStale, c).value(int64_t{c.stale ? 1 : 0});
  // Counts over group partitions: with sharding, every replica counts the
  // groups it owns, and sum() across replicas gives the cluster's figure.
  auto owned_count = [&](const ClusterStatus& c, bool lag::PartitionLag::*flag, int64_t all) {
    if (!scope.sharded()) return all;
    int64_t n = 0;
    for (const auto& p : c.lag->partition_lags) n += (p.*flag && owned(c, p.group)) ? 1 : 0;
    return n;
  };
  w.header(kDataLossPartitions);
  for (const auto& c : groups_of) {
    if (has_lag(c)) {
      w.begin(kDataLossPartitions, c).value(owned_count(c, &lag::PartitionLag::data_loss, c.lag->data_loss_partitions));
    }
  }
  w.header(kCompactionPartitions);
  for (const auto& c : groups_of) {
    if (has_lag(c) && c.sampling_enabled) {
      w.begin(kCompactionPartitions, c)
          .value(owned_count(c, &lag::PartitionLag::compaction_detected, c.lag->compaction_partitions));
    }
  }
  auto sampling_counter = [&](const Family& f, uint64_t ClusterStatus::*field) {
    w.header(f);
    for (const auto& c : clusters) {
      if (c.sampling_enabled) w.begin(f, c).value(static_cast<int64_t>(c.*field));
    }
  };
  sampling_counter(kTsReads, &ClusterStatus::timestamp_reads_total);
  sampling_counter(kTsHits, &ClusterStatus::timestamp_cache_hits_total);
  sampling_counter(kTsTimeouts, &ClusterStatus::timestamp_timeouts_total);
  sampling_counter(kTsDenied, &ClusterStatus::timestamp_denied_total);
  sampling_counter(kTsBytes, &ClusterStatus::timestamp_fetch_bytes_total);
  w.header(kTsDuration);
  for (const auto& c : clusters) {
    if (has_lag(c) && c.sampling_enabled) {
      w.begin(kTsDuration, c).value(std::chrono::duration<double>(c.last_sampling.duration).count());
    }
  }
  w.header(kPollTime);
  for (const auto& c : clusters) {
    if (!has_lag(c)) continue;
    const auto& t = c.timings;
    w.begin(kPollTime, c).value(static_cast<int64_t>((t.committed_offsets + t.metadata + t.watermarks).count()));
  }

  auto partition_family = [&](const Family& f, auto&& value_of) {
    w.header(f);
    for (const auto& c : clusters) {
      if (!has_lag(c)) continue;
      for (const auto& p : c.lag->partitions) {
        if (auto v = value_of(p)) w.begin(f, c).label("topic", p.topic).label("partition", p.partition).value(*v);
      }
    }
  };
  using OptInt = std::optional<int64_t>;
  using OptDouble = std::optional<double>;
  partition_family(kLatest, [](const lag::PartitionOffsets& p) { return OptInt(p.latest); });
  partition_family(kEarliest, [](const lag::PartitionOffsets& p) { return OptInt(p.earliest); });
  partition_family(kStable, [](const lag::PartitionOffsets& p) { return p.stable >= 0 ? OptInt(p.stable) : std::nullopt; });

  // Partition-level group families exist only at partition granularity.
  auto partition_level = [](const ClusterStatus& c) { return has_lag(c) && c.granularity == Granularity::partition; };
  auto no_extra = [](Writer&, const lag::PartitionLag&) {};
  auto group_partition_family = [&](const Family& f, auto&& value_of, auto&& extra_labels) {
    w.header(f);
    for (const auto& c : groups_of) {
      if (!partition_level(c)) continue;
      for (const auto& p : c.lag->partition_lags) {
        auto v = value_of(p);
        if (!v || !owned(c, p.group)) continue;
        w.begin(f, c).label("group", p.group).label("topic", p.topic).label("partition", p.partition);
        member_labels(w, c, p);
        extra_labels(w, p);
        w.value(*v);
      }
    }
  };
  group_partition_family(kGroupOffset, [](const lag::PartitionLag& p) { return OptInt(p.committed); }, no_extra);
  group_partition_family(kGroupLag, [](const lag::PartitionLag& p) { return OptInt(p.lag); }, no_extra);
  group_partition_family(
      kLagSeconds, [](const lag::PartitionLag& p) { return p.has_lag_seconds ? OptDouble(p.lag_seconds) : std::nullopt; },
      [](Writer& w, const lag::PartitionLag& p) {
        w.label("compaction_detected", p.compaction_detected ? "true" : "false")
            .label("data_loss_detected", p.data_loss ? "true" : "false");
      });
  group_partition_family(
      kStableLag, [](const lag::PartitionLag& p) { return p.stable_lag >= 0 ? OptInt(p.stable_lag) : std::nullopt; },
      no_extra);
  group_partition_family(kMessagesLost, [](const lag::PartitionLag& p) { return OptInt(p.messages_lost); }, no_extra);
  group_partition_family(kRetentionMargin, [](const lag::PartitionLag& p) { return OptInt(p.retention_margin); },
                         no_extra);
  group_partition_family(kRetentionRatio, [](const lag::PartitionLag& p) { return OptDouble(p.lag_retention_ratio); },
                         no_extra);

  auto group_family = [&](const Family& f, auto&& value_of) {
    w.header(f);
    for (const auto& c : groups_of) {
      if (!has_lag(c)) continue;
      for (const auto& g : c.lag->groups) {
        if (!owned(c, g.group)) continue;
        if (auto v = value_of(g)) w.begin(f, c).label("group", g.group).value(*v);
      }
    }
  };
  group_family(kMaxLag, [](const lag::GroupLag& g) { return g.has_lag ? OptInt(g.max_lag) : std::nullopt; });
  group_family(kMaxLagSeconds,
               [](const lag::GroupLag& g) { return g.has_lag_seconds ? OptDouble(g.max_lag_seconds) : std::nullopt; });
  group_family(kSumLag, [](const lag::GroupLag& g) { return g.has_lag ? OptInt(g.sum_lag) : std::nullopt; });
  w.header(kTopicSumLag);
  for (const auto& c : groups_of) {
    if (!has_lag(c)) continue;
    for (const auto& t : c.lag->topic_lags) {
      if (owned(c, t.group)) w.begin(kTopicSumLag, c).label("group", t.group).label("topic", t.topic).value(t.sum_lag);
    }
  }
  w.header(kGroupInfo);
  for (const auto& c : groups_of) {
    if (!has_lag(c)) continue;
    for (const auto& g : c.lag->groups) {
      if (owned(c, g.group)) w.begin(kGroupInfo, c).label("group", g.group).label("state", g.state).label("assignor", g.assignor).value(int64_t{1});
    }
  }
  w.header(kGroupState);
  for (const auto& c : groups_of) {
    if (!has_lag(c)) continue;
    for (const auto& g : c.lag->groups) {
      if (owned(c, g.group)) w.begin(kGroupState, c).label("group", g.group).value(group_state_code(g.state));
    }
  }
  w.header(kMembers);
  for (const auto& c : groups_of) {
    if (!has_lag(c)) continue;
    for (const auto& g : c.lag->groups) {
      if (g.described && owned(c, g.group)) w.begin(kMembers, c).label("group", g.group).value(g.members);
    }
  }
  detail::emit_history(w, clusters, groups_of, scope);

  auto process_gauge = [&sink](const Family& f, auto value) {
    sink.family(f);
    sink.begin_series();
    sink.value(value);
  };
  process_gauge(kReloadOk, int64_t{stats.reload_successful ? 1 : 0});
  if (stats.last_reload_success_unix_seconds > 0) process_gauge(kReloadTime, stats.last_reload_success_unix_seconds);
  if (!scope.leader_provider.empty()) {
    sink.family(kLeader);
    sink.begin_series();
    sink.label("provider", scope.leader_provider);
    sink.value(int64_t{scope.standby ? 0 : 1});
  }
  if (scope.sharded()) {
    int64_t n = 0;
    for (bool b : scope.shards) n += b ? 1 : 0;
    process_gauge(kShardsOwned, n);
  }
  if (stats.otlp_enabled) {
    sink.family(kOtlpExports);
    for (const auto& [result, n] : {std::pair{"success", stats.otlp_success}, std::pair{"failure", stats.otlp_failure},
                                    std::pair{"dropped", stats.otlp_dropped}}) {
      sink.begin_series();
      sink.label("result", result);
      sink.value(static_cast<int64_t>(n));
    }
  }
}

}  // namespace klag::metrics
