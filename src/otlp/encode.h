// OTLP encoding of the exporter's metrics: the same family walk as the
// Prometheus text (metrics::emit_metrics), so every metric keeps its name,
// its labels as string attributes, and its value. Gauges become OTLP
// gauges; counters become cumulative monotonic sums starting at the
// process start. Pure: times are passed in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collect/status.h"
#include "metrics/families.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"

namespace klag::otlp {

using Attributes = std::vector<std::pair<std::string, std::string>>;
using ExportRequest = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;

struct EncodeTimes {
  uint64_t start_unix_nano = 0;  // process start: the start of every counter
  uint64_t now_unix_nano = 0;    // time of every data point
};

ExportRequest encode_metrics(const std::vector<collect::ClusterStatus>& clusters, const Attributes& resource,
                             const EncodeTimes& times, const metrics::ExporterStats& stats = {});

// service.name, service.version and service.instance.id, then the pairs of
// OTEL_RESOURCE_ATTRIBUTES ("k1=v1,k2=v2", values percent-decoded), which
// override ours on the same key. Malformed pairs are skipped.
Attributes resource_attributes(std::string_view version, std::string_view instance_id,
                               std::string_view otel_resource_attributes);

}  // namespace klag::otlp
