// klag-exporter: wires config, collection loops, the snapshot store and the
// HTTP server together. No logic of its own beyond start-up and shutdown.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

#include "collect/cluster_loop.h"
#include "collect/collector.h"
#include "config/config.h"
#include "config/filter.h"
#include "http/routes.h"
#include "http/server.h"
#include "metrics/snapshot.h"
#include "otlp/exporter.h"

namespace {

constexpr int kExitConfig = 2;
constexpr int kExitRuntime = 1;
// SIGINT/SIGTERM must end the process within 2 s even mid-cycle.
constexpr std::chrono::milliseconds kShutdownGrace{1500};

int run(const klag::config::Config& cfg, const sigset_t& signals) {
  std::vector<klag::collect::ClusterStatus> initial;
  for (const auto& c : cfg.clusters) initial.push_back(klag::collect::initial_status(c, cfg.exporter));
  klag::metrics::SnapshotStore store(std::move(initial));

  // A loop publishes at least every max(poll_interval, cycle_timeout); allow
  // two of those plus slack before /health calls it wedged.
  const auto liveness_limit =
      2 * std::max(cfg.exporter.poll_interval, cfg.exporter.effective_cycle_timeout()) + std::chrono::seconds(30);
  klag::http::Server server({.host = cfg.exporter.http_host, .port = cfg.exporter.http_port},
                            klag::http::make_routes(store, liveness_limit));
  if (auto started = server.start(); !started) {
    spdlog::error("HTTP server: {}", started.error());
    return kExitRuntime;
  }
  spdlog::info("serving http://{}:{}/metrics", cfg.exporter.http_host, server.port());

  std::unique_ptr<klag::otlp::Exporter> otlp;
  if (cfg.exporter.otel.enabled) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    const char* extra = std::getenv("OTEL_RESOURCE_ATTRIBUTES");
    otlp = std::make_unique<klag::otlp::Exporter>(
        cfg.exporter.otel, store,
        klag::otlp::resource_attributes(KLAG_VERSION, std::string(host) + ":" + std::to_string(getpid()),
                                        extra ? extra : ""));
    otlp->start();
    spdlog::info("exporting OTLP ({}) to {} every {}ms", cfg.exporter.otel.protocol, cfg.exporter.otel.endpoint,
                 cfg.exporter.otel.export_interval.count());
  }

  std::vector<std::unique_ptr<klag::collect::ClusterLoop>> loops;
  for (const auto& c : cfg.clusters) {
    // Patterns were validated when the config loaded.
    auto groups = klag::config::NameFilter::create(c.group_whitelist, c.group_blacklist);
    auto topics = klag::config::NameFilter::create(c.topic_whitelist, c.topic_blacklist);
    if (!groups || !topics) {
      spdlog::error("cluster {}: {}", c.name, !groups ? groups.error() : topics.error());
      return kExitConfig;
    }
    auto collector = std::make_unique<klag::collect::Collector>(c, cfg.exporter, std::move(*groups), std::move(*topics));
    loops.push_back(std::make_unique<klag::collect::ClusterLoop>(
        c, cfg.exporter, std::move(collector), [&store](const auto& s) { store.publish(s); }));
    loops.back()->start();
    spdlog::info("cluster {}: collecting from {} every {}ms", c.name, c.bootstrap_servers,
                 cfg.exporter.poll_interval.count());
  }

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received signal {}, shutting down", sig);
  for (auto& l : loops) l->request_stop();
  if (otlp) otlp->stop();  // aborts a transfer in flight
  server.stop();
  const auto give_up = std::chrono::steady_clock::now() + kShutdownGrace;
  for (auto& l : loops) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now());
    if (!l->join_for(std::max(left, std::chrono::milliseconds(0)))) {
      // A thread blocked inside librdkafka (e.g. a metadata call to a dead
      // broker) cannot be interrupted; the process exit ends it.
      spdlog::warn("a collection thread is still inside a Kafka call; exiting without waiting");
      // No spdlog::shutdown(): other threads may still log through the
      // default logger. Flush and leave.
      spdlog::default_logger()->flush();
      std::_Exit(0);
    }
  }
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"klag-exporter: Kafka consumer group lag exporter for Prometheus"};
  std::string config_path = "config.toml";
  std::string log_level = "info";
  bool check_only = false;
  app.add_option("-c,--config", config_path, "Path to the TOML config file")->capture_default_str();
  app.add_option("-l,--log-level", log_level, "Log level: trace, debug, info, warn, error, off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_flag("--check-config", check_only, "Validate the config file and exit (0 when valid)");
  app.set_version_flag("-V,--version", std::string("klag-exporter ") + KLAG_VERSION);
  CLI11_PARSE(app, argc, argv);

  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

  auto cfg = klag::config::load_file(config_path, klag::config::process_env());
  if (!cfg) {
    std::cerr << cfg.error().to_string() << "\n";
    return kExitConfig;
  }
  if (check_only) {
    std::cout << "config OK: " << config_path << " (" << cfg->clusters.size() << " cluster"
              << (cfg->clusters.size() == 1 ? "" : "s") << ")\n";
    return 0;
  }

  // Block the stop signals in every thread; main waits for them with
  // sigwait, so no signal handler runs inside library code.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  spdlog::info("klag-exporter {} starting with {} cluster(s)", KLAG_VERSION, cfg->clusters.size());
  return run(*cfg, signals);
}
