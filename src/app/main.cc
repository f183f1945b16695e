// klag-exporter: parses the command line, loads the config and hands it to
// the Runtime, which wires the stages together.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <malloc.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <vector>

#include "app/runtime.h"
#include "config/config.h"
#include "http/server.h"
#include "kafka/group_census.h"

namespace {

constexpr int kExitConfig = 2;

// The soft limit on open files is often 1,024 while the hard one is far
// higher; the HTTP server alone may hold 1,024 connections beside the Kafka
// sockets, so take what we are allowed (Go programs do the same).
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

// glibc gives each new thread a malloc arena (an exited thread's, or a new
// one up to 8 per core), and malloc_trim cannot shrink the top of any arena
// but the main one. librdkafka runs several threads per handle
// and the collector starts short-lived offset workers every cycle, so the
// load moves between arenas and each keeps the high-water mark of its own:
// in the soak run RSS grew in steps while the live heap stayed flat
// (docs/design.md, "Tested faults and the soak run"). One arena, trimmed
// after each publication (runtime.cc), makes RSS follow the live heap; the
// per-thread caches keep most allocations off its lock, and the exporter
// mostly waits on the network. An operator's MALLOC_ARENA_MAX (or the
// glibc.malloc.arena_max tunable) wins. Must run before any thread exists.
void limit_malloc_arenas() {
#ifdef M_ARENA_MAX
  constexpr int kMallocArenas = 1;
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr) return;
  if (const char* t = std::getenv("GLIBC_TUNABLES"); t != nullptr && std::strstr(t, "glibc.malloc.arena_max")) return;
  mallopt(M_ARENA_MAX, kMallocArenas);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  limit_malloc_arenas();
  CLI::App app{"klag-exporter: Kafka consumer group lag exporter for Prometheus"};
  std::string config_path = "config.toml";
  std::string log_level = "info";
  bool check_only = false;
  std::string web_config_file;
  app.add_option("-c,--config", config_path, "Path to the TOML config file")->capture_default_str();
  app.add_option("-l,--log-level", log_level, "Log level: trace, debug, info, warn, error, off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_flag("--check-config", check_only,
               "Validate the config file (and the web config file, if given) and exit (0 when valid)");
  app.add_option("--web.config.file", web_config_file,
                 "Web config file (exporter-toolkit format) for TLS and basic auth on every endpoint");
  app.set_version_flag("-V,--version", std::string("klag-exporter ") + KLAG_VERSION);
  CLI11_PARSE(app, argc, argv);

  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

  auto cfg = klag::config::load_file(config_path, klag::config::process_env());
  if (!cfg) {
    std::cerr << cfg.error().to_string() << "\n";
    return kExitConfig;
  }
  if (!web_config_file.empty()) {
    if (auto web = klag::http::check_web_config(web_config_file); !web) {
      std::cerr << web.error() << "\n";
      return kExitConfig;
    }
  }
  if (check_only) {
    if (!web_config_file.empty()) std::cout << "web config OK: " << web_config_file << "\n";
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
  sigaddset(&signals, SIGHUP);  // reload
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  spdlog::info("klag-exporter {} starting with {} cluster(s)", KLAG_VERSION, cfg->clusters.size());
  raise_open_file_limit();
  int rc = 0;
  {
    klag::app::Runtime runtime(config_path, std::move(*cfg), web_config_file);
    rc = runtime.run(signals);
  }
  // A collector destroyed while its census listing waited on a hung broker
  // left the listing to finish on its own thread (kafka/group_census.h);
  // static destructors must not run under it (librdkafka logs through
  // spdlog from its threads).
  if (const int left = klag::kafka::GroupCensus::abandoned_listings(); left > 0) {
    spdlog::info("{} group listing(s) still waiting on a broker; exiting without waiting", left);
    spdlog::default_logger()->flush();
    std::_Exit(rc);
  }
  return rc;
}
