// Pushes the current snapshot to an OTLP receiver every export_interval.
// It only reads the immutable snapshot, so exporting never calls Kafka, and
// a slow or absent receiver never delays collection or /metrics.
//
// At most one batch is pending: a batch still failing with a retryable
// error when the next interval starts is dropped (and counted) in favour of
// the fresh one. Outcomes are published to the store as ExporterStats.
//
// Owns its thread and transport. start()/stop() from the owning thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "config/config.h"
#include "metrics/snapshot.h"
#include "otlp/encode.h"
#include "otlp/transport.h"

namespace klag::otlp {

class Exporter {
 public:
  Exporter(config::Otel cfg, metrics::SnapshotStore& store, Attributes resource);
  ~Exporter();  // stop() and join
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;
  Exporter(Exporter&&) = delete;
  Exporter& operator=(Exporter&&) = delete;

  void start();
  void stop();

 private:
  void run();
  // Sleeps until `until` or stop; false when stopping.
  bool sleep_until(std::chrono::steady_clock::time_point until);

  config::Otel cfg_;
  metrics::SnapshotStore& store_;
  Attributes resource_;
  uint64_t start_unix_nano_;
  metrics::ExporterStats stats_;  // only the otlp_* fields are ours
  void publish_stats();
  std::unique_ptr<Transport> transport_;

  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;  // last: started after every member it uses exists
};

}  // namespace klag::otlp
