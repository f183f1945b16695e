// The immutable result of one publication: everything the HTTP handlers
// serve, rendered once, so a request only hands out bytes.
//
// Snapshot is immutable: its exposition is rendered straight into gzip at
// construction, on the publishing thread, so a scrape (Prometheus always
// asks for gzip) only hands out bytes, the HTTP thread never compresses, and
// the uncompressed text of a large exposition is never held: a request
// without gzip gets it inflated piece by piece while it is sent. A small
// one (up to kSharedTextBytes) is inflated at most once, by the first
// request without gzip (thread-safe via call_once), and shared. SnapshotStore is thread-safe: cluster loops
// publish, HTTP and other readers call current().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "collect/status.h"
#include "metrics/families.h"
#include "metrics/gzip.h"
#include "metrics/render.h"

namespace klag::metrics {

class Snapshot {
 public:
  Snapshot(std::vector<collect::ClusterStatus> clusters, ExporterStats stats, GzipExposition metrics, bool ready,
           std::string not_ready_reason);
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  Snapshot(Snapshot&&) = delete;
  Snapshot& operator=(Snapshot&&) = delete;

  // Up to this size the plain text is kept once inflated; larger texts are
  // only ever streamed (GzipReader over metrics_gzip()), so that a plain
  // scrape of 700,000 series costs a 32 KB piece, not a 96 MB copy.
  static constexpr size_t kSharedTextBytes = 4 * 1024 * 1024;

  const std::shared_ptr<const std::string>& metrics_gzip() const { return gzip_; }
  // The plain text's size.
  size_t metrics_text_size() const { return text_bytes_; }
  // The whole plain text, inflated at most once and then kept with the
  // snapshot (the small-text path, and tests).
  std::shared_ptr<const std::string> metrics_text() const;
  // GET /api/v1/groups (metrics/api.h), rendered at most once, by the first
  // request that asks (the page polls it; scrapers never do).
  std::shared_ptr<const std::string> groups_json() const;
  // Every cluster finished its first cycle, and at least one cycle of one
  // cluster ever succeeded (see not_ready_reason below).
  bool ready() const { return ready_; }
  const std::string& not_ready_reason() const { return not_ready_reason_; }
  // The data the text was rendered from, for other encodings (OTLP).
  const std::vector<collect::ClusterStatus>& clusters() const { return clusters_; }
  const ExporterStats& stats() const { return stats_; }

 private:
  std::vector<collect::ClusterStatus> clusters_;
  ExporterStats stats_;
  std::shared_ptr<const std::string> gzip_;
  size_t text_bytes_;
  mutable std::once_flag text_once_;
  mutable std::shared_ptr<const std::string> text_;
  mutable std::once_flag json_once_;
  mutable std::shared_ptr<const std::string> json_;
  bool ready_;
  std::string not_ready_reason_;
};

// Why GET /ready answers 503 for these statuses, or empty when it answers
// 200: some cluster has not finished its first cycle yet (successful or
// not), or none has ever had a successful cycle, so there is no data to
// serve (a load balancer must not route to this replica; the reference
// klag-exporter answers 503 then too). A cluster that answered once stays
// "answered" while it is down: a Kafka outage must not take every replica
// out of the load balancer (its data is served stale, then `up` says 0).
std::string not_ready_reason(const std::vector<collect::ClusterStatus>& clusters);

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
  // Ignored when the cluster is no longer configured, or when `epoch` is
  // not the cluster's current one (a loop retired by a reload). `now`
  // stamps the cluster's heartbeat (see stalled_cluster).
  void publish(const collect::ClusterStatus& status, uint64_t epoch = 0,
               std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  // Stamps the cluster's heartbeat without new data (a standby's loop).
  void heartbeat(const std::string& cluster, uint64_t epoch = 0,
                 std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  // The snapshot to serve: the standby one while a leader check is set and
  // says this replica does not lead.
  std::shared_ptr<const Snapshot> current() const;
  // Changes the exporter's own figures (OTLP counters, reload status, HA
  // scope) and republishes.
  void update_exporter_stats(const std::function<void(ExporterStats&)>& change);

  // Leader election: asked on every current(); set once, before serving.
  void set_leader_check(std::function<bool()> is_leader);
  // Forgets every cluster's data but its counters (collect::forget_term): a
  // new leadership term starts from fresh cycles, and /ready waits for them.
  void forget_term();

  // Config reload: the new cluster list, in order. Clusters named in `keep`
  // keep their status, epoch and heartbeat; the others start from the given
  // status with a new epoch. Returns each cluster's epoch, in order.
  std::vector<uint64_t> reconfigure(std::vector<collect::ClusterStatus> clusters,
                                    const std::vector<std::string>& keep,
                                    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  // Liveness: the name of a cluster whose loop has not published for longer
  // than `limit` (counted from construction before its first publication),
  // or empty when every loop is alive. `now` is passed in for testability.
  std::string stalled_cluster(std::chrono::steady_clock::time_point now, std::chrono::milliseconds limit) const;

 private:
  struct Entry {
    collect::ClusterStatus status;
    uint64_t epoch = 0;
    std::chrono::steady_clock::time_point last_publish;
  };
  void rebuild();  // caller holds publish_mu_
  std::shared_ptr<const Snapshot> build(bool standby) const;

  std::mutex publish_mu_;  // serialises writers; readers never take it
  std::vector<Entry> entries_;
  ExporterStats stats_;
  uint64_t next_epoch_ = 1;
  std::function<bool()> is_leader_;
  mutable std::mutex current_mu_;  // guards the pointers and the heartbeats' copy
  std::shared_ptr<const Snapshot> current_;
  std::shared_ptr<const Snapshot> standby_;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> heartbeats_;
};

}  // namespace klag::metrics
