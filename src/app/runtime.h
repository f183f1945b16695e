// The running exporter: the snapshot store, the HTTP server, one collection
// loop per cluster, OTLP export and, when configured, leader election or
// sharding. Owns config reloads (SIGHUP, POST /-/reload).
//
// run() is called once from the main thread; reload() may be called from
// the main thread and the HTTP thread at once (it serialises itself).
#pragma once

#include <signal.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "collect/cluster_loop.h"
#include "config/config.h"
#include "ha/election.h"
#include "ha/shards.h"
#include "http/routes.h"
#include "metrics/snapshot.h"

namespace klag::app {

class Runtime {
 public:
  // `web_config_file`: TLS and basic auth for the HTTP server (empty: none).
  Runtime(std::string config_path, config::Config config, std::string web_config_file = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  Runtime(Runtime&&) = delete;
  Runtime& operator=(Runtime&&) = delete;

  // Serves until SIGINT or SIGTERM; SIGHUP reloads the config file.
  // `signals` must be blocked in every thread. Returns the exit code.
  int run(const sigset_t& signals);

  // Re-reads the config file and applies it, or keeps the running config
  // and reports why not. Never blocks on Kafka.
  http::ReloadOutcome reload();

 private:
  std::vector<collect::ClusterStatus> initial_statuses(const config::Config& c) const;
  std::unique_ptr<collect::ClusterLoop> make_loop(const config::Cluster& cluster, const config::Exporter& exporter,
                                                  uint64_t epoch);
  void wake_loops();
  void start_ha();

  const std::string config_path_;
  const std::string web_config_file_;
  std::mutex mu_;  // guards config_, stopping_, loops_ and retiring_
  config::Config config_;
  bool stopping_ = false;  // set at shutdown: no reload may start loops then
  metrics::SnapshotStore store_;
  // Declared before the loops, so destroyed after them: loop threads ask them.
  std::unique_ptr<ha::Election> election_;
  std::unique_ptr<ha::ShardOwnership> shards_;
  std::map<std::string, std::unique_ptr<collect::ClusterLoop>> loops_;
  // Loops of removed or changed clusters, asked to stop; reaped once done.
  std::vector<std::unique_ptr<collect::ClusterLoop>> retiring_;
};

}  // namespace klag::app
