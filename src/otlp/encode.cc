#include "otlp/encode.h"

#include <algorithm>
#include <charconv>

#include "config/config.h"
#include "metrics/families.h"

namespace klag::otlp {
namespace {

namespace pb_common = opentelemetry::proto::common::v1;
namespace pb_metrics = opentelemetry::proto::metrics::v1;

// Builds one OTLP Metric per family and one data point per series.
class OtlpSink final : public metrics::SeriesSink {
 public:
  OtlpSink(pb_metrics::ScopeMetrics& scope, const EncodeTimes& times) : scope_(scope), times_(times) {}

  void family(const metrics::Family& f) override {
    metric_ = scope_.add_metrics();
    metric_->set_name(f.name);
    metric_->set_description(f.help);
    if (f.type == metrics::MetricType::counter) {
      auto* sum = metric_->mutable_sum();
      sum->set_aggregation_temporality(pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
      sum->set_is_monotonic(true);
      counter_ = true;
    } else {
      metric_->mutable_gauge();
      counter_ = false;
    }
  }
  void begin_series() override {
    point_ = counter_ ? metric_->mutable_sum()->add_data_points() : metric_->mutable_gauge()->add_data_points();
    if (counter_) point_->set_start_time_unix_nano(times_.start_unix_nano);
    point_->set_time_unix_nano(times_.now_unix_nano);
  }
  // Prometheus label values are strings, so attributes are too, even for
  // numbers such as the partition: the same series on both paths.
  void label(std::string_view name, std::string_view value) override { add(name, value); }
  void label(std::string_view name, int64_t value) override {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    add(name, std::string_view(buf, static_cast<size_t>(end - buf)));
  }
  void value(int64_t v) override { point_->set_as_int(v); }
  void value(double v) override { point_->set_as_double(v); }

 private:
  void add(std::string_view name, std::string_view value) {
    auto* kv = point_->add_attributes();
    kv->set_key(std::string(name));
    kv->mutable_value()->set_string_value(std::string(value));
  }

  pb_metrics::ScopeMetrics& scope_;
  const EncodeTimes& times_;
  pb_metrics::Metric* metric_ = nullptr;
  pb_metrics::NumberDataPoint* point_ = nullptr;
  bool counter_ = false;
};

}  // namespace

ExportRequest encode_metrics(const std::vector<collect::ClusterStatus>& clusters, const Attributes& resource,
                             const EncodeTimes& times, const metrics::ExporterStats& stats) {
  ExportRequest req;
  auto* rm = req.add_resource_metrics();
  for (const auto& [k, v] : resource) {
    auto* kv = rm->mutable_resource()->add_attributes();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  }
  auto* scope = rm->add_scope_metrics();
  scope->mutable_scope()->set_name("klag-exporter");
  OtlpSink sink(*scope, times);
  metrics::emit_metrics(clusters, sink, stats);
  // Families with no series this cycle are not sent: an OTLP metric without
  // data points carries nothing.
  auto* ms = scope->mutable_metrics();
  ms->erase(std::remove_if(ms->begin(), ms->end(),
                           [](const pb_metrics::Metric& m) {
                             return m.has_sum() ? m.sum().data_points_size() == 0 : m.gauge().data_points_size() == 0;
                           }),
            ms->end());
  return req;
}

Attributes resource_attributes(std::string_view version, std::string_view instance_id,
                               std::string_view otel_resource_attributes) {
  Attributes out = {{"service.name", "klag-exporter"},
                    {"service.version", std::string(version)},
                    {"service.instance.id", std::string(instance_id)}};
  for (auto& [key, value] : config::parse_key_value_list(otel_resource_attributes)) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& kv) { return kv.first == key; });
    if (it != out.end()) {
      it->second = std::move(value);
    } else {
      out.emplace_back(std::move(key), std::move(value));
    }
  }
  return out;
}

}  // namespace klag::otlp
