// klag-exporter: parses the command line, loads the config and hands it to
// the Runtime, which wires the stages together.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

#include "app/runtime.h"
#include "config/config.h"

namespace {

constexpr int kExitConfig = 2;

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
  sigaddset(&signals, SIGHUP);  // reload
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  spdlog::info("klag-exporter {} starting with {} cluster(s)", KLAG_VERSION, cfg->clusters.size());
  klag::app::Runtime runtime(config_path, std::move(*cfg));
  return runtime.run(signals);
}
