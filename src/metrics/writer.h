// Internal to the metrics library: the series writer every family goes
// through, and the families split out of families.cc. Pure, like
// families.h; not for use outside src/metrics.
#pragma once

#include <string_view>
#include <vector>

#include "collect/status.h"
#include "metrics/families.h"

namespace klag::metrics::detail {

using collect::ClusterStatus;

// Adds the cluster's identifying labels in front of a series' own labels
// and its custom labels after them, so every family gets them the same way.
// Borrows the sink for one walk, on the walking thread.
class Writer {
 public:
  explicit Writer(SeriesSink& sink) : sink_(sink) {}

  void header(const Family& f) { sink_.family(f); }

  Writer& begin(const Family&, const ClusterStatus& c) {
    sink_.begin_series();
    sink_.label("cluster_name", c.name);
    cluster_ = &c;
    return *this;
  }
  Writer& label(std::string_view name, std::string_view value) {
    sink_.label(name, value);
    return *this;
  }
  Writer& label(std::string_view name, int64_t value) {
    sink_.label(name, value);
    return *this;
  }
  void value(int64_t v) {
    end_labels();
    sink_.value(v);
  }
  void value(double v) {
    end_labels();
    sink_.value(v);
  }

 private:
  void end_labels() {
    for (const auto& [k, v] : cluster_->labels) sink_.label(k, v);
  }

  SeriesSink& sink_;
  const ClusterStatus* cluster_ = nullptr;
};

inline bool has_lag(const ClusterStatus& c) { return c.lag != nullptr; }

inline void member_labels(Writer& w, const ClusterStatus& c, const lag::PartitionLag& p) {
  if (!c.member_labels) return;
  w.label("member_host", p.member_host).label("consumer_id", p.consumer_id).label("client_id", p.client_id);
}

// Rates, catch-up times and status (lag::History), in history_families.cc.
// `clusters` serve the cluster-wide produce rate, `groups_of` the group
// series, `scope` says which groups this replica owns (see emit_metrics).
void emit_history(Writer& w, const std::vector<ClusterStatus>& clusters, const std::vector<ClusterStatus>& groups_of,
                  const Scope& scope);

}  // namespace klag::metrics::detail
