#include "http/routes.h"

#include "metrics/index_page.h"

namespace klag::http {
namespace {

constexpr const char* kExpositionType = "text/plain; version=0.0.4; charset=utf-8";

// A large snapshot's plain text, inflated piece by piece as it is sent: a
// plain-text scrape costs one piece of memory (about 70 KB with zlib's
// state), not the whole text (96 MB at 700,000 series), at the price of
// inflating it again per request (only people and tools ask without gzip;
// Prometheus never does).
class PlainText final : public BodyStream {
 public:
  explicit PlainText(const metrics::Snapshot& snap) : size_(snap.metrics_text_size()), reader_(snap.metrics_gzip()) {}
  size_t size() const override { return size_; }
  std::string_view next() override { return reader_.next(); }

 private:
  size_t size_;
  metrics::GzipReader reader_;
};

Response metrics(const metrics::Snapshot& snap, const Request& req) {
  Response r;
  r.content_type = kExpositionType;
  r.headers.emplace_back("Vary", "Accept-Encoding");
  if (req.accepts_gzip()) {
    r.body = snap.metrics_gzip();
    r.headers.emplace_back("Content-Encoding", "gzip");
  } else {
    if (snap.metrics_text_size() <= metrics::Snapshot::kSharedTextBytes) {
      r.body = snap.metrics_text();
    } else {
      r.stream = std::make_shared<PlainText>(snap);
    }
  }
  return r;
}

}  // namespace

Handler make_routes(const metrics::SnapshotStore& store, std::chrono::milliseconds liveness_limit, Reload reload) {
  return [&store, liveness_limit, reload = std::move(reload)](const Request& req) -> Response {
    if (req.path == "/-/reload" && reload) {
      if (req.method != "POST") {
        Response r = Response::text(405, "use POST to reload the config\n");
        r.headers.emplace_back("Allow", "POST");
        return r;
      }
      const ReloadOutcome out = reload();
      return out.ok ? Response::text(200, "config reloaded\n")
                    : Response::text(500, "failed to reload config: " + out.message + "\n");
    }
    const auto snap = store.current();
    if (req.path == "/metrics") return metrics(*snap, req);
    // Liveness: the process and its loops answer. Never tied to Kafka, or
    // Kubernetes would restart a healthy exporter during a Kafka outage.
    if (req.path == "/health") {
      const std::string stalled = store.stalled_cluster(std::chrono::steady_clock::now(), liveness_limit);
      if (!stalled.empty()) return Response::text(503, "collection loop of cluster " + stalled + " is stalled\n");
      return Response::text(200, "OK\n");
    }
    if (req.path == "/ready") {
      return snap->ready() ? Response::text(200, "ready\n")
                           : Response::text(503, "not ready: " + snap->not_ready_reason() + "\n");
    }
    if (req.path == "/leader") {
      // A standby's snapshot says so; without election every replica leads.
      const bool leader = !snap->stats().scope.standby;
      return Response::text(200, leader ? "{\"is_leader\": true}\n" : "{\"is_leader\": false}\n",
                            "application/json");
    }
    if (req.path == "/") {
      Response r;
      r.content_type = "text/html; charset=utf-8";
      r.body = metrics::index_page();
      return r;
    }
    if (req.path == "/api/v1/groups") {
      Response r;
      r.content_type = "application/json";
      r.headers.emplace_back("Cache-Control", "no-store");
      r.body = snap->groups_json();
      return r;
    }
    return Response::text(404, "not found\n");
  };
}

}  // namespace klag::http
