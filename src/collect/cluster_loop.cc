#include "collect/cluster_loop.h"

#include <spdlog/spdlog.h>

#include "lag/compute.h"

namespace klag::collect {
namespace {

using Clock = std::chrono::steady_clock;

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

ClusterLoop::ClusterLoop(const config::Cluster& cluster, const config::Exporter& exporter,
                         std::unique_ptr<Collector> collector, Publish publish)
    : collector_(std::move(collector)),
      publish_(std::move(publish)),
      poll_interval_(exporter.poll_interval),
      cycle_timeout_(exporter.effective_cycle_timeout()),
      max_staleness_(exporter.effective_max_staleness()),
      status_(initial_status(cluster, exporter)) {
  if (exporter.consumer_status.enabled) {
    history_.emplace(lag::StatusRules{.window = static_cast<size_t>(exporter.consumer_status.window),
                                      .min_lag = exporter.consumer_status.min_lag});
  }
}

ClusterLoop::~ClusterLoop() {
  request_stop();
  if (thread_.joinable()) thread_.join();
}

void ClusterLoop::start() {
  thread_ = std::thread([this] { run(); });
}

void ClusterLoop::request_stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

void ClusterLoop::wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

void ClusterLoop::new_term() {
  std::lock_guard lock(term_mu_);
  new_term_ = true;
}

void ClusterLoop::start_term() {
  forget_term(status_);
  last_success_ = {};
  if (history_) history_->clear();
}

bool ClusterLoop::join_for(std::chrono::milliseconds timeout) {
  std::unique_lock lock(done_mu_);
  if (!done_cv_.wait_for(lock, timeout, [this] { return done_; })) return false;
  lock.unlock();
  if (thread_.joinable()) thread_.join();
  return true;
}

void ClusterLoop::run() {
  while (!stop_) {
    const auto start = Clock::now();
    if (!gate_ || gate_()) {
      cycle();
    } else {
      // A standby's observations would span the time it did not look.
      if (history_) history_->clear();
      if (idle_) idle_();
    }
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, start + poll_interval_, [this] { return stop_.load() || wake_; });
    wake_ = false;
  }
  std::lock_guard lock(done_mu_);
  done_ = true;
  done_cv_.notify_all();
}

void ClusterLoop::cycle() {
  const auto start = Clock::now();
  kafka::Deadline deadline{.at = start + cycle_timeout_, .cancel = &stop_};
  auto result = collector_->run(deadline);
  if (stop_) return;  // a cancelled cycle publishes nothing
  const auto end = Clock::now();
  std::lock_guard term_lock(term_mu_);
  if (new_term_) {
    // The first cycle to end since the term changed: its own result only.
    new_term_ = false;
    start_term();
  }

  const bool was_up = status_.up;
  const bool first = !status_.first_cycle_done;
  status_.first_cycle_done = true;
  ++status_.cycles;
  status_.last_cycle_seconds = std::chrono::duration<double>(end - start).count();
  if (result) {
    status_.up = true;
    status_.stale = false;
    status_.last_error.clear();
    status_.timings = result->timings;
    const double now = unix_now();
    const auto now_ms = static_cast<int64_t>(now * 1000.0);
    auto computed = lag::compute(result->sample, now_ms);
    // Rates divide by the time between reads of the offsets, not between
    // cycle ends (time-lag sampling after the reads varies in length).
    const int64_t observed_ms = result->sample.observed_unix_ms > 0 ? result->sample.observed_unix_ms : now_ms;
    status_.lag = history_ ? history_->observe(std::move(computed), observed_ms)
                           : std::make_shared<const lag::ClusterLag>(std::move(computed));
    status_.last_success_unix_seconds = now;
    const SamplingStats& s = result->sampling;
    status_.last_sampling = s;
    status_.timestamp_reads_total += s.reads;
    status_.timestamp_cache_hits_total += s.cache_hits;
    status_.timestamp_timeouts_total += s.timeouts;
    status_.timestamp_denied_total += s.denied;
    status_.timestamp_fetch_bytes_total += s.bytes;
    status_.partial_errors_total.add(result->partial);
    last_success_ = end;
    if (!was_up) {
      spdlog::info("cluster {}: up ({} groups, {} partitions, cycle {:.3f}s)", status_.name,
                   status_.lag->groups.size(), status_.lag->partitions.size(), status_.last_cycle_seconds);
    }
  } else {
    status_.up = false;
    ++status_.failed_cycles;
    const std::string err = result.error().to_string();
    // Log once per state change, not once per cycle.
    if (was_up || first) {
      spdlog::warn("cluster {}: down: {}", status_.name, err);
    }
    status_.last_error = err;
    if (status_.lag && end - last_success_ > max_staleness_) {
      spdlog::warn("cluster {}: dropping lag data older than {}s", status_.name,
                   std::chrono::duration_cast<std::chrono::seconds>(max_staleness_).count());
      status_.lag.reset();
      if (history_) history_->clear();
    }
    status_.stale = status_.lag != nullptr;
  }
  log_cycle_end(result ? &result->partial : nullptr, end);
  publish_(status_);
}

void ClusterLoop::log_cycle_end(const PartialErrors* partial, std::chrono::steady_clock::time_point end) {
  const std::string line =
      cycle_line(status_.name, status_.cycles, status_.last_cycle_seconds, partial, status_.last_error);
  if (!partial) {  // failed: the state change is logged above, at warning
    spdlog::debug("{}", line);
  } else if (partial->total() > 0) {
    // Never "ok": missing data is said at warning, once a minute at most.
    if (partial_warnings_.partial(end)) {
      const size_t more = partial_warnings_.suppressed();
      spdlog::warn("{}{}", line,
                   more > 0 ? fmt::format("; {} more cycles with partial errors since the last warning", more) : "");
    } else {
      spdlog::debug("{}", line);
    }
  } else {
    spdlog::debug("{}", line);
    if (partial_warnings_.clean()) {
      spdlog::info("cluster {}: complete again at cycle {}, after {} cycles with partial errors", status_.name,
                   status_.cycles, partial_warnings_.finished_run());
    }
  }
}

}  // namespace klag::collect
