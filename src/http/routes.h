// The exporter's endpoints over a SnapshotStore. Every handler reads the
// current immutable snapshot and hands out its bytes; none calls Kafka.
// Thread-safe (the store is).
#pragma once

#include <functional>
#include <string>

#include "http/server.h"
#include "metrics/snapshot.h"

namespace klag::http {

// GET /metrics, /health, /ready, /leader, / (the web page) and
// /api/v1/groups (its JSON, docs/api.md); 404 for anything else.
// /leader and /ready follow leader election through the store.
// /health fails when a cluster loop has not published for `liveness_limit`
// (a wedged loop is worth a restart; a down Kafka is not).
// POST /-/reload runs `reload` on the server thread, so it must not block:
// 200 when the new config applies, 500 with the message when it was
// rejected. Without a reload callback the path is 404.
struct ReloadOutcome {
  bool ok = true;
  std::string message;
};
using Reload = std::function<ReloadOutcome()>;

Handler make_routes(const metrics::SnapshotStore& store, std::chrono::milliseconds liveness_limit,
                    Reload reload = {});

}  // namespace klag::http
