// Config::coordination_cluster and plan_reload: what a reload may change.
#include <algorithm>

#include "config/config.h"

namespace klag::config {

const Cluster& Config::coordination_cluster(const KafkaCoordination& k) const {
  for (const auto& c : clusters) {
    if (c.name == k.cluster) return c;
  }
  return clusters.front();  // parse() guarantees at least one cluster
}

namespace {

// What a coordination group member takes from its cluster: a change in
// filters or labels does not move the group.
bool same_connection(const Cluster& a, const Cluster& b) {
  return a.name == b.name && a.bootstrap_servers == b.bootstrap_servers &&
         a.consumer_properties == b.consumer_properties;
}

}  // namespace

std::expected<ReloadPlan, std::string> plan_reload(const Config& current, const Config& next) {
  const Exporter& a = current.exporter;
  const Exporter& b = next.exporter;
  // Settings owned by parts that live for the whole process.
  auto fixed = [](const char* key) {
    return std::unexpected(std::string("exporter.") + key + " changed; it applies only at start, restart to change it");
  };
  if (a.http_host != b.http_host) return fixed("http_host");
  if (a.http_port != b.http_port) return fixed("http_port");
  if (a.otel != b.otel) return fixed("otel");
  if (a.leadership != b.leadership) return fixed("leadership");
  if (a.sharding != b.sharding) return fixed("sharding");
  // The coordination group's cluster must stay as it is: its brokers carry
  // the group this replica is a member of.
  if (a.leadership.enabled && a.leadership.provider == "kafka" &&
      !same_connection(current.coordination_cluster(a.leadership.kafka), next.coordination_cluster(b.leadership.kafka))) {
    return std::unexpected("the cluster hosting the leadership group changed; restart to change it");
  }
  if (a.sharding.enabled &&
      !same_connection(current.coordination_cluster(a.sharding.kafka), next.coordination_cluster(b.sharding.kafka))) {
    return std::unexpected("the cluster hosting the sharding group changed; restart to change it");
  }

  // Everything else in [exporter] shapes every cluster's collection.
  const bool all_changed = a != b;
  ReloadPlan plan;
  auto find = [](const Config& c, const std::string& name) -> const Cluster* {
    auto it = std::find_if(c.clusters.begin(), c.clusters.end(), [&](const Cluster& x) { return x.name == name; });
    return it == c.clusters.end() ? nullptr : &*it;
  };
  for (const auto& c : current.clusters) {
    if (!find(next, c.name)) plan.removed.push_back(c.name);
  }
  for (const auto& c : next.clusters) {
    const Cluster* old = find(current, c.name);
    if (!old) {
      plan.added.push_back(c.name);
    } else if (all_changed || *old != c) {
      plan.changed.push_back(c.name);
    } else {
      plan.unchanged.push_back(c.name);
    }
  }
  return plan;
}

}  // namespace klag::config
