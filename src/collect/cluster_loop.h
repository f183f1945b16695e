// Runs one cluster's collection cycles on its own thread, every
// poll_interval, each bounded by the cycle deadline; cycles never overlap.
//
// Owns the thread and the Collector. start()/stop() from one owning thread,
// wake() and new_term() from any; the publish callback runs on the loop
// thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "collect/collector.h"
#include "collect/cycle_report.h"
#include "collect/status.h"
#include "config/config.h"
#include "lag/history.h"

namespace klag::collect {

using Publish = std::function<void(const ClusterStatus&)>;

class ClusterLoop {
 public:
  ClusterLoop(const config::Cluster& cluster, const config::Exporter& exporter,
              std::unique_ptr<Collector> collector, Publish publish);
  ~ClusterLoop();  // stop() and join
  ClusterLoop(const ClusterLoop&) = delete;
  ClusterLoop& operator=(const ClusterLoop&) = delete;
  ClusterLoop(ClusterLoop&&) = delete;
  ClusterLoop& operator=(ClusterLoop&&) = delete;

  // Cycles run only while `gate` returns true (leader election); set
  // before start().
  // `idle` runs instead of a cycle while the gate is shut, so liveness
  // checks see a standby's loop as alive.
  void set_gate(std::function<bool()> gate, std::function<void()> idle) {
    gate_ = std::move(gate);
    idle_ = std::move(idle);
  }
  void start();
  // Runs the next cycle now instead of at the next interval (a new leader
  // or new shards should not wait).
  void wake();
  // A leadership term started or ended: the status the loop publishes next
  // forgets the cycles before (forget_term), so /ready waits for a cycle of
  // the new term. Any thread; call it before resetting the store, as a
  // publication that started earlier is then over.
  void new_term();
  // Asks the loop to stop: an in-flight cycle is cancelled at its next
  // poll slice. Does not wait.
  void request_stop();
  // Waits up to `timeout` for the thread to finish; true if it did. A
  // thread stuck in a blocking librdkafka call is left to process exit.
  bool join_for(std::chrono::milliseconds timeout);

 private:
  void run();
  void cycle();
  // forget_term for the loop's own state too (loop thread, under term_mu_).
  void start_term();
  // The line that ends a cycle (cycle_line); `partial` is null when it failed.
  void log_cycle_end(const PartialErrors* partial, std::chrono::steady_clock::time_point end);

  std::unique_ptr<Collector> collector_;
  Publish publish_;
  std::function<bool()> gate_;
  std::function<void()> idle_;
  std::chrono::milliseconds poll_interval_;
  std::chrono::milliseconds cycle_timeout_;
  std::chrono::milliseconds max_staleness_;
  ClusterStatus status_;
  // Status, rates and catch-up times (consumer_status.enabled).
  std::optional<lag::History> history_;
  std::chrono::steady_clock::time_point last_success_{};
  PartialWarnings partial_warnings_;

  // Held by the loop thread from applying a cycle's result to publishing
  // it, so a new term is seen either before the result (which then starts
  // from a forgotten status) or after the publication.
  std::mutex term_mu_;
  bool new_term_ = false;  // guarded by term_mu_

  std::atomic<bool> stop_{false};
  bool wake_ = false;  // guarded by mu_
  std::mutex mu_;
  std::condition_variable cv_;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::thread thread_;  // last: started after every member it uses exists
};

}  // namespace klag::collect
