// Prometheus text exposition (format 0.0.4) of the clusters' statuses.
// Pure: no clock, no I/O, locale-independent number formatting.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collect/status.h"
#include "metrics/families.h"

namespace klag::metrics {

// Renders every family, each with HELP and TYPE, clusters in the given order.
std::string render_prometheus(const std::vector<collect::ClusterStatus>& clusters, const ExporterStats& stats);
std::string render_prometheus(const std::vector<collect::ClusterStatus>& clusters);
// The same text, gzip-compressed while it is rendered: the uncompressed
// exposition is never held in memory (51 MB at 40,000 group partitions).
struct GzipExposition {
  std::string gzip;
  size_t text_bytes = 0;  // the uncompressed size
};
GzipExposition render_prometheus_gzip(const std::vector<collect::ClusterStatus>& clusters, const ExporterStats& stats,
                                   int level);

// Label value escaping per the exposition format: \ " and newline.
void append_escaped_label_value(std::string& out, std::string_view value);

// Shortest round-trip text of a double; NaN, +Inf, -Inf spelled as
// Prometheus expects.
void append_double(std::string& out, double v);
void append_int(std::string& out, int64_t v);

}  // namespace klag::metrics
