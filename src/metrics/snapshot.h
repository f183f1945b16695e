// The immutable result of one publication: everything the HTTP handlers
// serve, rendered once, so a request only hands out bytes.
//
// Snapshot is immutable after construction except for the gzip body, which
// is computed at most once, on the first request that accepts gzip
// (thread-safe via call_once). SnapshotStore is thread-safe: cluster loops
// publish, HTTP and other readers call current().
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "collect/status.h"
#include "metrics/families.h"

namespace klag::metrics {

class Snapshot {
 public:
  Snapshot(std::vector<collect::ClusterStatus> clusters, ExporterStats stats, std::string metrics_text,
           std::string index_html, bool ready, std::string not_ready_reason);
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  Snapshot(Snapshot&&) = delete;
  Snapshot& operator=(Snapshot&&) = delete;

  const std::shared_ptr<const std::string>& metrics_text() const { return text_; }
  std::shared_ptr<const std::string> metrics_gzip() const;
  const std::shared_ptr<const std::string>& index_html() const { return html_; }
  // Every cluster finished its first cycle (successful or not).
  bool ready() const { return ready_; }
  const std::string& not_ready_reason() const { return not_ready_reason_; }
  // The data the text was rendered from, for other encodings (OTLP).
  const std::vector<collect::ClusterStatus>& clusters() const { return clusters_; }
  const ExporterStats& stats() const { return stats_; }

 private:
  std::vector<collect::ClusterStatus> clusters_;
  ExporterStats stats_;
  std::shared_ptr<const std::string> text_;
  std::shared_ptr<const std::string> html_;
  bool ready_;
  std::string not_ready_reason_;
  mutable std::once_flag gzip_once_;
  mutable std::shared_ptr<const std::string> gzip_;
};

class SnapshotStore {
 public:
  // `initial` fixes the cluster order; each entry's name is its key.
  explicit SnapshotStore(std::vector<collect::ClusterStatus> initial,
                         std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  SnapshotStore(const SnapshotStore&) = delete;
  SnapshotStore& operator=(const SnapshotStore&) = delete;
  SnapshotStore(SnapshotStore&&) = delete;
  SnapshotStore& operator=(SnapshotStore&&) = delete;

  // Replaces the named cluster's status and publishes a new snapshot.
  // `now` stamps the cluster's heartbeat (see stalled_cluster).
  void publish(const collect::ClusterStatus& status,
               std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  std::shared_ptr<const Snapshot> current() const;
  // Replaces the exporter's own figures (OTLP counters) and republishes.
  void set_exporter_stats(const ExporterStats& stats);

  // Liveness: the name of a cluster whose loop has not published for longer
  // than `limit` (counted from construction before its first publication),
  // or empty when every loop is alive. `now` is passed in for testability.
  std::string stalled_cluster(std::chrono::steady_clock::time_point now, std::chrono::milliseconds limit) const;

 private:
  std::shared_ptr<const Snapshot> build() const;  // caller holds publish_mu_

  std::mutex publish_mu_;  // serialises publishers; readers never take it
  std::vector<collect::ClusterStatus> clusters_;
  ExporterStats stats_;
  mutable std::mutex current_mu_;  // guards the pointer and last_publish_
  std::shared_ptr<const Snapshot> current_;
  struct Heartbeat {
    std::string cluster;
    std::chrono::steady_clock::time_point last_publish;
  };
  std::vector<Heartbeat> heartbeats_;  // one per cluster, same order as clusters_
};

}  // namespace klag::metrics
