#include "otlp/exporter.h"

#include <spdlog/spdlog.h>


namespace klag::otlp {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t unix_nano_now() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace

Exporter::Exporter(config::Otel cfg, metrics::SnapshotStore& store, Attributes resource)
    : cfg_(std::move(cfg)),
      store_(store),
      resource_(std::move(resource)),
      start_unix_nano_(unix_nano_now()),
      transport_(make_transport(cfg_)) {
  stats_.otlp_enabled = true;
  publish_stats();
}

Exporter::~Exporter() { stop(); }

void Exporter::start() {
  thread_ = std::thread([this] { run(); });
}

void Exporter::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  transport_->cancel();  // aborts a send in flight
  if (thread_.joinable()) thread_.join();
}

bool Exporter::sleep_until(Clock::time_point until) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, until, [this] { return stop_.load(); });
  return !stop_;
}

void Exporter::run() {
  bool healthy = true;
  auto next = Clock::now() + cfg_.export_interval;
  while (sleep_until(next)) {
    next += cfg_.export_interval;
    if (next < Clock::now()) next = Clock::now() + cfg_.export_interval;

    const auto snap = store_.current();
    const ExportRequest request =
        encode_metrics(snap->clusters(), resource_, {start_unix_nano_, unix_nano_now()}, snap->stats());
    auto backoff = std::chrono::milliseconds(500);
    for (;;) {
      const SendOutcome out = transport_->send(request);
      if (out.result == SendResult::success) {
        ++stats_.otlp_success;
        if (!healthy) spdlog::info("OTLP export to {}: working again", cfg_.endpoint);
        healthy = true;
        break;
      }
      if (healthy) spdlog::warn("OTLP export to {} failing: {}", cfg_.endpoint, out.detail);
      healthy = false;
      if (out.result == SendResult::failed) {
        ++stats_.otlp_failure;
        break;
      }
      // Retryable: back off, but never past the next interval's batch.
      if (Clock::now() + backoff >= next) {
        ++stats_.otlp_dropped;
        break;
      }
      if (!sleep_until(Clock::now() + backoff)) return;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(30'000));
    }
    publish_stats();
  }
}

void Exporter::publish_stats() {
  store_.update_exporter_stats([this](metrics::ExporterStats& s) {
    s.otlp_enabled = stats_.otlp_enabled;
    s.otlp_success = stats_.otlp_success;
    s.otlp_failure = stats_.otlp_failure;
    s.otlp_dropped = stats_.otlp_dropped;
  });
}

}  // namespace klag::otlp
