#include "app/runtime.h"

#include <spdlog/spdlog.h>

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "collect/collector.h"
#include "config/filter.h"
#include "http/server.h"
#include "otlp/exporter.h"

namespace klag::app {
namespace {

using Clock = std::chrono::steady_clock;

// SIGINT/SIGTERM must end the process within 2 s even mid-cycle.
constexpr std::chrono::milliseconds kShutdownGrace{1500};
constexpr int kExitRuntime = 1;

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Resident set in KiB (statm), for the debug log of release_free_heap.
long rss_kib() {
  long pages = 0;
  long resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

// Called after each publication, when the cycle's temporaries are free
// again: malloc_trim hands the free pages of the heap back to the kernel (it
// madvises whole free pages away and shrinks the top of the main arena, the
// only one main.cc leaves us by default). Without it glibc keeps the heap at
// its high-water mark, so RSS follows the worst cycle seen so far rather
// than the live heap. At most once a second process-wide, however many
// clusters publish; about 0.7 ms at the medium benchmark estate.
void release_free_heap() {
#ifdef __GLIBC__
  static std::atomic<int64_t> last_ns{0};
  const auto now = Clock::now();
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  int64_t prev = last_ns.load(std::memory_order_relaxed);
  if (prev != 0 && now_ns - prev < 1'000'000'000) return;
  if (!last_ns.compare_exchange_strong(prev, now_ns, std::memory_order_relaxed)) return;
  if (!spdlog::should_log(spdlog::level::debug)) {
    malloc_trim(0);
    return;
  }
  const long before = rss_kib();
  const auto start = Clock::now();
  malloc_trim(0);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  const long after = rss_kib();
  spdlog::debug("malloc_trim: {:.3f} ms, RSS {} -> {} KiB", ms, before, after);
#endif
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

}  // namespace

Runtime::Runtime(std::string config_path, config::Config config, std::string web_config_file)
    : config_path_(std::move(config_path)),
      web_config_file_(std::move(web_config_file)),
      config_(std::move(config)),
      store_(initial_statuses(config_)) {
  store_.update_exporter_stats([](metrics::ExporterStats& s) { s.last_reload_success_unix_seconds = unix_now(); });
}

Runtime::~Runtime() = default;

std::vector<collect::ClusterStatus> Runtime::initial_statuses(const config::Config& c) const {
  std::vector<collect::ClusterStatus> out;
  for (const auto& cluster : c.clusters) out.push_back(collect::initial_status(cluster, c.exporter));
  return out;
}

std::unique_ptr<collect::ClusterLoop> Runtime::make_loop(const config::Cluster& c, const config::Exporter& exporter,
                                                         uint64_t epoch) {
  // Patterns were validated when the config loaded.
  auto groups = config::NameFilter::create(c.group_whitelist, c.group_blacklist);
  auto topics = config::NameFilter::create(c.topic_whitelist, c.topic_blacklist);
  auto collector = std::make_unique<collect::Collector>(c, exporter, std::move(*groups), std::move(*topics));
  if (shards_) {
    collector->set_group_scope([this, name = c.name](const std::string& group) {
      return shards_->owns(name, group, Clock::now());
    });
  }
  auto loop = std::make_unique<collect::ClusterLoop>(
      c, exporter, std::move(collector), [this, epoch](const auto& s) {
        store_.publish(s, epoch);
        release_free_heap();
      });
  if (election_) {
    loop->set_gate([this] { return election_->is_leader(Clock::now()); },
                   [this, name = c.name, epoch] { store_.heartbeat(name, epoch); });
  }
  loop->start();
  spdlog::info("cluster {}: collecting from {} every {}ms", c.name, c.bootstrap_servers,
               exporter.poll_interval.count());
  return loop;
}

void Runtime::wake_loops() {
  std::lock_guard lock(mu_);
  for (auto& [name, loop] : loops_) loop->wake();
}

void Runtime::start_ha() {
  const config::Exporter& ex = config_.exporter;
  if (ex.leadership.enabled) {
    const std::string identity = ha::replica_identity(ex.leadership.identity);
    election_ = ex.leadership.provider == "kubernetes" ? ha::make_lease_election(ex.leadership, identity)
                                                       : ha::make_kafka_election(config_, identity);
    store_.update_exporter_stats(
        [provider = election_->provider()](metrics::ExporterStats& s) { s.scope.leader_provider = provider; });
    store_.set_leader_check([this] { return election_->is_leader(Clock::now()); });
    election_->start([this](bool leader) {
      // The store and the loops' gates ask is_leader() themselves. The data
      // of a term is forgotten when it ends and again when a new one starts
      // (a cycle may have finished in between), so a new term serves only
      // fresh cycles and /ready waits for them. The loops first: each one's
      // next publication then forgets the old term too, and one already
      // under way is over before the store forgets it.
      {
        std::lock_guard lock(mu_);
        for (auto& [name, loop] : loops_) loop->new_term();
        store_.forget_term();
      }
      if (leader) wake_loops();
    });
    spdlog::info("leader election ({}) as {}", election_->provider(), identity);
  } else if (ex.sharding.enabled) {
    const std::string identity = ha::replica_identity(ex.sharding.identity);
    shards_ = std::make_unique<ha::ShardOwnership>(config_, identity);
    store_.update_exporter_stats([](metrics::ExporterStats& s) { s.scope.shards = {false}; });
    shards_->start([this](const std::vector<bool>& owned) {
      store_.update_exporter_stats([&owned](metrics::ExporterStats& s) { s.scope.shards = owned; });
      wake_loops();
    });
    spdlog::info("sharding through group {} as {}", ex.sharding.kafka.group, identity);
  }
}

http::ReloadOutcome Runtime::reload() {
  std::lock_guard lock(mu_);
  auto fail = [this](std::string message) {
    spdlog::error("config reload rejected, keeping the running config: {}", message);
    store_.update_exporter_stats([](metrics::ExporterStats& s) { s.reload_successful = false; });
    return http::ReloadOutcome{false, std::move(message)};
  };
  if (stopping_) return {false, "shutting down"};
  auto next = config::load_file(config_path_, config::process_env());
  if (!next) return fail(next.error().to_string());
  auto plan = config::plan_reload(config_, *next);
  if (!plan) return fail(plan.error());

  for (const auto* names : {&plan->removed, &plan->changed}) {
    for (const auto& name : *names) {
      auto it = loops_.find(name);
      if (it == loops_.end()) continue;
      it->second->request_stop();  // an in-flight cycle is cancelled; its publish is ignored
      retiring_.push_back(std::move(it->second));
      loops_.erase(it);
    }
  }
  const auto epochs = store_.reconfigure(initial_statuses(*next), plan->unchanged);
  for (size_t i = 0; i < next->clusters.size(); ++i) {
    const auto& c = next->clusters[i];
    if (loops_.contains(c.name)) continue;  // unchanged: keeps its loop and timing
    loops_[c.name] = make_loop(c, next->exporter, epochs[i]);
  }
  config_ = std::move(*next);
  // Reap retired loops that have finished; the others are asked again later.
  std::erase_if(retiring_, [](auto& loop) { return loop->join_for(std::chrono::milliseconds(0)); });
  store_.update_exporter_stats([](metrics::ExporterStats& s) {
    s.reload_successful = true;
    s.last_reload_success_unix_seconds = unix_now();
  });
  spdlog::info("config reloaded: added {}; removed {}; restarted {}; unchanged {}", join(plan->added),
               join(plan->removed), join(plan->changed), join(plan->unchanged));
  return {};
}

int Runtime::run(const sigset_t& signals) {
  // Election and shards first: the store's leader check and the loops'
  // gates must be in place before anything reads them.
  try {
    start_ha();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitRuntime;
  }
  // A copy: a reload may replace config_ while this thread still reads it.
  const config::Exporter ex = config_.exporter;
  // The first loops exist before the server can take a reload.
  {
    std::lock_guard lock(mu_);
    for (const auto& c : config_.clusters) loops_[c.name] = make_loop(c, config_.exporter, 0);
  }
  // A loop publishes at least every max(poll_interval, cycle_timeout); allow
  // two of those plus slack before /health calls it wedged.
  const auto liveness_limit = 2 * std::max(ex.poll_interval, ex.effective_cycle_timeout()) + std::chrono::seconds(30);
  http::Server server({.host = ex.http_host,
                       .port = ex.http_port,
                       .post_paths = {"/-/reload"},
                       .web_config_file = web_config_file_},
                      http::make_routes(store_, liveness_limit, [this] { return reload(); }));
  if (auto started = server.start(); !started) {
    spdlog::error("HTTP server: {}", started.error());
    return kExitRuntime;
  }
  spdlog::info("serving {}://{}:{}/metrics", server.tls() ? "https" : "http", ex.http_host, server.port());

  std::unique_ptr<otlp::Exporter> otlp;
  if (ex.otel.enabled) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    const char* extra = std::getenv("OTEL_RESOURCE_ATTRIBUTES");
    otlp = std::make_unique<otlp::Exporter>(
        ex.otel, store_,
        otlp::resource_attributes(KLAG_VERSION, std::string(host) + ":" + std::to_string(getpid()),
                                  extra ? extra : ""));
    otlp->start();
    spdlog::info("exporting OTLP ({}) to {} every {}ms", ex.otel.protocol, ex.otel.endpoint,
                 ex.otel.export_interval.count());
  }

  int sig = 0;
  for (;;) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    spdlog::info("received SIGHUP, reloading {}", config_path_);
    try {
      reload();
    } catch (const std::exception& e) {  // e.g. no thread for a new loop
      spdlog::error("config reload failed: {}", e.what());
    }
  }
  spdlog::info("received signal {}, shutting down", sig);
  const auto give_up = Clock::now() + kShutdownGrace;
  server.stop();  // no more reloads from HTTP
  std::vector<std::unique_ptr<collect::ClusterLoop>> all;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [name, loop] : loops_) all.push_back(std::move(loop));
    loops_.clear();
    for (auto& loop : retiring_) all.push_back(std::move(loop));
    retiring_.clear();
  }
  for (auto& l : all) l->request_stop();
  if (otlp) otlp->stop();  // aborts a transfer in flight
  // Hand leadership or shards to a peer at once rather than after a session
  // timeout (bounded: leaving the group takes at most ~1 s).
  if (election_) election_->stop();
  if (shards_) shards_->stop();
  for (auto& l : all) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - Clock::now());
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

}  // namespace klag::app
