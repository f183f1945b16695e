// The exporter's endpoints over a SnapshotStore. Every handler reads the
// current immutable snapshot and hands out its bytes; none calls Kafka.
// Thread-safe (the store is).
#pragma once

#include "http/server.h"
#include "metrics/snapshot.h"

namespace klag::http {

// GET /metrics, /health, /ready, /leader and /; 404 for anything else.
// /health fails when a cluster loop has not published for `liveness_limit`
// (a wedged loop is worth a restart; a down Kafka is not).
Handler make_routes(const metrics::SnapshotStore& store, std::chrono::milliseconds liveness_limit);

}  // namespace klag::http
