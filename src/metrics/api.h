// GET /api/v1/groups: a JSON view of the same data /metrics serves, for the
// web page at "/" and for scripts (docs/api.md). Pure.
#pragma once

#include <string>
#include <vector>

#include "collect/status.h"
#include "metrics/families.h"

namespace klag::metrics {

// Every cluster's collection status and, within this replica's scope (none
// on a standby, the owned groups with sharding), its consumer groups with
// their partitions.
std::string render_groups_json(const std::vector<collect::ClusterStatus>& clusters, const ExporterStats& stats);

}  // namespace klag::metrics
