#include "lag/status.h"

#include <limits>

namespace klag::lag {

std::string_view to_string(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::unknown: return "unknown";
    case Status::warn: return "warn";
    case Status::stall: return "stall";
    case Status::stop: return "stop";
    case Status::rewind: return "rewind";
  }
  return "unknown";
}

Status evaluate(std::span<const Observation> w, bool consumed, const StatusRules& rules) {
  if (w.size() < rules.window || w.empty()) return Status::unknown;
  for (size_t i = 1; i < w.size(); ++i) {
    if (w[i].committed < w[i - 1].committed) return Status::rewind;
  }
  for (const auto& o : w) {
    if (o.lag() < rules.min_lag) return Status::ok;
  }
  if (w.front().committed == w.back().committed) return consumed ? Status::stall : Status::stop;
  for (size_t i = 1; i < w.size(); ++i) {
    if (w[i].lag() < w[i - 1].lag()) return Status::ok;  // lag shrank at least once
  }
  return w.back().lag() > w.front().lag() ? Status::warn : Status::ok;
}

std::optional<Rates> rates(std::span<const Observation> w) {
  if (w.size() < 2) return std::nullopt;
  const double seconds = static_cast<double>(w.back().time_ms - w.front().time_ms) / 1000.0;
  if (seconds <= 0) return std::nullopt;
  const auto consumed = w.back().committed - w.front().committed;
  const auto produced = w.back().latest - w.front().latest;  // < 0 when the topic was recreated
  return Rates{.produce_per_second = produced > 0 ? static_cast<double>(produced) / seconds : 0.0,
               .consume_per_second = consumed > 0 ? static_cast<double>(consumed) / seconds : 0.0};
}

double catchup_seconds(int64_t lag, const Rates& r) {
  if (lag <= 0) return 0;
  const double gain = r.consume_per_second - r.produce_per_second;
  if (gain <= 0) return std::numeric_limits<double>::infinity();
  return static_cast<double>(lag) / gain;
}

}  // namespace klag::lag
