// The small HTML status page served at "/". Pure.
#pragma once

#include <string>
#include <vector>

#include "collect/status.h"

namespace klag::metrics {

std::string render_index_html(const std::vector<collect::ClusterStatus>& clusters);

}  // namespace klag::metrics
