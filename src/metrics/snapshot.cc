#include "metrics/snapshot.h"

#include <algorithm>

#include "metrics/gzip.h"
#include "metrics/index_page.h"
#include "metrics/render.h"

namespace klag::metrics {

Snapshot::Snapshot(std::vector<collect::ClusterStatus> clusters, ExporterStats stats, std::string metrics_text,
                   std::string index_html, bool ready, std::string not_ready_reason)
    : clusters_(std::move(clusters)),
      stats_(stats),
      text_(std::make_shared<const std::string>(std::move(metrics_text))),
      html_(std::make_shared<const std::string>(std::move(index_html))),
      ready_(ready),
      not_ready_reason_(std::move(not_ready_reason)) {}

std::shared_ptr<const std::string> Snapshot::metrics_gzip() const {
  std::call_once(gzip_once_, [this] { gzip_ = std::make_shared<const std::string>(gzip_compress(*text_)); });
  return gzip_;
}

SnapshotStore::SnapshotStore(std::vector<collect::ClusterStatus> initial, std::chrono::steady_clock::time_point now)
    : clusters_(std::move(initial)) {
  for (const auto& c : clusters_) heartbeats_.push_back({c.name, now});
  current_ = build();
}

void SnapshotStore::publish(const collect::ClusterStatus& status, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(publish_mu_);
  auto it = std::find_if(clusters_.begin(), clusters_.end(), [&](const auto& c) { return c.name == status.name; });
  const size_t index = static_cast<size_t>(it - clusters_.begin());
  if (it == clusters_.end()) {
    clusters_.push_back(status);
  } else {
    *it = status;
  }
  auto snap = build();
  std::lock_guard swap(current_mu_);
  current_ = std::move(snap);
  if (index == heartbeats_.size()) heartbeats_.push_back({status.name, {}});
  heartbeats_[index].last_publish = now;
}

std::string SnapshotStore::stalled_cluster(std::chrono::steady_clock::time_point now,
                                           std::chrono::milliseconds limit) const {
  std::lock_guard lock(current_mu_);
  for (const auto& h : heartbeats_) {
    if (now - h.last_publish > limit) return h.cluster;
  }
  return {};
}

void SnapshotStore::set_exporter_stats(const ExporterStats& stats) {
  std::lock_guard lock(publish_mu_);
  stats_ = stats;
  auto snap = build();
  std::lock_guard swap(current_mu_);
  current_ = std::move(snap);
}

std::shared_ptr<const Snapshot> SnapshotStore::current() const {
  std::lock_guard lock(current_mu_);
  return current_;
}

std::shared_ptr<const Snapshot> SnapshotStore::build() const {
  std::string waiting;
  for (const auto& c : clusters_) {
    if (!c.first_cycle_done) waiting += (waiting.empty() ? "" : ", ") + c.name;
  }
  return std::make_shared<const Snapshot>(clusters_, stats_, render_prometheus(clusters_, stats_),
                                          render_index_html(clusters_), waiting.empty(),
                                          waiting.empty() ? "" : "first cycle not finished for: " + waiting);
}

}  // namespace klag::metrics
