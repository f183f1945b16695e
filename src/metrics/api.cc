#include "metrics/api.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace klag::metrics {
namespace {

using nlohmann::json;

// JSON has no infinity: a catch-up time that never ends is "+Inf", as in
// the Prometheus exposition.
json seconds_or_inf(double v) { return std::isinf(v) ? json("+Inf") : json(v); }

json partition_json(const lag::PartitionLag& p, bool history) {
  json j = {{"topic", p.topic},
            {"partition", p.partition},
            {"committed", p.committed},
            {"earliest", p.earliest},
            {"latest", p.latest},
            {"lag", p.lag},
            {"lag_seconds", p.has_lag_seconds ? json(p.lag_seconds) : json(nullptr)},
            {"data_loss", p.data_loss},
            {"messages_lost", p.messages_lost},
            {"compaction_detected", p.compaction_detected},
            {"member_host", p.member_host},
            {"consumer_id", p.consumer_id},
            {"client_id", p.client_id}};
  j["status"] = history ? json(lag::to_string(p.status)) : json(nullptr);
  j["consume_rate"] = history && p.has_rates ? json(p.consume_rate) : json(nullptr);
  j["produce_rate"] = history && p.has_rates ? json(p.produce_rate) : json(nullptr);
  j["catchup_seconds"] = history && p.has_rates ? seconds_or_inf(p.catchup_seconds) : json(nullptr);
  return j;
}

json cluster_json(const collect::ClusterStatus& c, const Scope& scope) {
  json j = {{"name", c.name},
            {"up", c.up},
            {"stale", c.stale},
            {"first_cycle_done", c.first_cycle_done},
            {"last_success_unix_seconds", c.last_success_unix_seconds > 0 ? json(c.last_success_unix_seconds) : json(nullptr)},
            {"last_cycle_seconds", c.first_cycle_done ? json(c.last_cycle_seconds) : json(nullptr)},
            {"error", c.last_error}};
  json groups = json::array();
  if (c.lag && !scope.standby) {
    const lag::ClusterLag& lag = *c.lag;
    size_t p = 0;  // partition_lags and groups are both sorted by group
    for (const auto& g : lag.groups) {
      while (p < lag.partition_lags.size() && lag.partition_lags[p].group < g.group) ++p;
      if (!scope.owns(c.name, g.group)) continue;
      json parts = json::array();
      bool data_loss = false;
      bool compaction = false;
      for (; p < lag.partition_lags.size() && lag.partition_lags[p].group == g.group; ++p) {
        const auto& pl = lag.partition_lags[p];
        data_loss = data_loss || pl.data_loss;
        compaction = compaction || pl.compaction_detected;
        parts.push_back(partition_json(pl, lag.has_history));
      }
      groups.push_back({{"group", g.group},
                        {"state", g.state},
                        {"assignor", g.assignor},
                        {"members", g.described ? json(g.members) : json(nullptr)},
                        {"sum_lag", g.has_lag ? json(g.sum_lag) : json(nullptr)},
                        {"max_lag", g.has_lag ? json(g.max_lag) : json(nullptr)},
                        {"max_lag_seconds", g.has_lag_seconds ? json(g.max_lag_seconds) : json(nullptr)},
                        {"status", g.has_status ? json(lag::to_string(g.status)) : json(nullptr)},
                        {"data_loss", data_loss},
                        {"compaction_detected", compaction},
                        {"partitions", std::move(parts)}});
    }
  }
  j["groups"] = std::move(groups);
  return j;
}

}  // namespace

std::string render_groups_json(const std::vector<collect::ClusterStatus>& clusters, const ExporterStats& stats) {
  json clusters_json = json::array();
  for (const auto& c : clusters) clusters_json.push_back(cluster_json(c, stats.scope));
  json out = {{"leader", !stats.scope.standby}, {"clusters", std::move(clusters_json)}};
  // Names come from Kafka and may hold any bytes: replace invalid UTF-8
  // rather than fail the whole answer.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace klag::metrics
