#include "lag/history.h"

#include <algorithm>
#include <limits>
#include <string_view>
#include <tuple>

namespace klag::lag {
namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();

auto key_of(const PartitionOffsets& p) { return std::tuple<std::string_view, int32_t>(p.topic, p.partition); }
auto key_of(const PartitionLag& p) {
  return std::tuple<std::string_view, std::string_view, int32_t>(p.group, p.topic, p.partition);
}

// For each element of `now`, the index of the element with the same key in
// `old`, or kNone. Both are sorted by key (compute() sorts them).
template <typename T>
std::vector<size_t> match(const std::vector<T>* old, const std::vector<T>& now) {
  std::vector<size_t> out(now.size(), kNone);
  if (old == nullptr) return out;
  size_t i = 0;
  for (size_t j = 0; j < now.size(); ++j) {
    const auto k = key_of(now[j]);
    while (i < old->size() && key_of((*old)[i]) < k) ++i;
    if (i < old->size() && key_of((*old)[i]) == k) out[j] = i++;
  }
  return out;
}

// Moves each matched key's last (window - 1) samples into the new layout
// and appends this cycle's sample; a key `skip` rejects gets no samples.
template <typename Samples, typename SampleOf, typename Skip>
Samples advance(const Samples& old, const std::vector<size_t>& matched, size_t window, SampleOf sample_of, Skip skip) {
  Samples out;
  out.data.resize(matched.size() * window);
  out.count.assign(matched.size(), 0);
  for (size_t j = 0; j < matched.size(); ++j) {
    if (skip(j)) continue;
    auto* dst = &out.data[j * window];
    size_t n = 0;
    if (const size_t i = matched[j]; i != kNone) {
      const size_t had = old.count[i];
      n = std::min(had, window - 1);
      std::copy_n(&old.data[i * window] + (had - n), n, dst);
    }
    dst[n++] = sample_of(j);
    out.count[j] = static_cast<uint16_t>(n);
  }
  return out;
}

double per_second(int64_t delta, int64_t ms) {
  return static_cast<double>(delta) * 1000.0 / static_cast<double>(ms);
}

}  // namespace

void History::clear() {
  times_.clear();
  prev_.reset();
  partitions_ = {};
  groups_ = {};
  consumed_.clear();
}

std::vector<uint8_t> History::consumed_now(const ClusterLag& lag, const std::vector<size_t>& matched) const {
  std::vector<uint8_t> out(lag.partition_lags.size(), 0);
  size_t g = 0;  // lag.groups and partition_lags are both sorted by group
  for (size_t begin = 0; begin < lag.partition_lags.size();) {
    const std::string& group = lag.partition_lags[begin].group;
    size_t end = begin;
    bool any_owner = false;
    for (; end < lag.partition_lags.size() && lag.partition_lags[end].group == group; ++end) {
      any_owner = any_owner || !lag.partition_lags[end].consumer_id.empty();
    }
    while (g < lag.groups.size() && lag.groups[g].group < group) ++g;
    const GroupLag* info = g < lag.groups.size() && lag.groups[g].group == group ? &lag.groups[g] : nullptr;
    for (size_t j = begin; j < end; ++j) {
      if (info != nullptr && info->described) {
        // The member that owns the partition; when no assignment could be
        // read at all (a protocol it cannot decode), any member.
        out[j] = !lag.partition_lags[j].consumer_id.empty() || (!any_owner && info->members > 0);
      } else if (matched[j] != kNone && matched[j] < consumed_.size()) {
        out[j] = consumed_[matched[j]];  // not described this cycle: as last seen
      }
    }
    begin = end;
  }
  return out;
}

std::shared_ptr<const ClusterLag> History::observe(ClusterLag lag, int64_t now_ms) {
  const size_t window = rules_.window;
  // A clock that went back would give negative rates: start over instead.
  if (!times_.empty() && now_ms <= times_.back()) clear();
  times_.push_back(now_ms);
  if (times_.size() > window) times_.pop_front();
  auto time_of = [&](size_t n, size_t i) { return times_[times_.size() - n + i]; };

  partitions_ = advance(partitions_, match(prev_ ? &prev_->partitions : nullptr, lag.partitions), window,
                        [&](size_t j) { return lag.partitions[j].latest; }, [](size_t) { return false; });
  for (size_t j = 0; j < lag.partitions.size(); ++j) {
    const size_t n = partitions_.count[j];
    if (n < 2) continue;
    const int64_t* s = &partitions_.data[j * window];
    auto& p = lag.partitions[j];
    p.has_produce_rate = true;
    // A high watermark that went down (topic recreated) produced nothing.
    p.produce_rate = std::max(0.0, per_second(s[n - 1] - s[0], time_of(n, n - 1) - time_of(n, 0)));
  }

  // A commit carried from an earlier cycle is not an observation: its key
  // starts over, like one that was not seen.
  const auto matched = match(prev_ ? &prev_->partition_lags : nullptr, lag.partition_lags);
  groups_ = advance(
      groups_, matched, window,
      [&](size_t j) {
        const auto& p = lag.partition_lags[j];
        return GroupSample{p.committed, p.latest};
      },
      [&](size_t j) { return lag.partition_lags[j].carried; });
  const std::vector<uint8_t> consumed = consumed_now(lag, matched);

  std::vector<Observation> obs;
  obs.reserve(window);
  for (size_t j = 0; j < lag.partition_lags.size(); ++j) {
    auto& p = lag.partition_lags[j];
    const size_t n = groups_.count[j];
    obs.clear();
    for (size_t i = 0; i < n; ++i) {
      const GroupSample& s = groups_.data[j * window + i];
      obs.push_back({.time_ms = time_of(n, i), .committed = s.committed, .latest = s.latest});
    }
    p.status = evaluate(obs, consumed[j] != 0, rules_);
    if (auto r = rates(obs)) {
      p.has_rates = true;
      p.produce_rate = r->produce_per_second;
      p.consume_rate = r->consume_per_second;
      // A lag below min_lag counts as caught up here too: a live consumer
      // between two commits is not "never catching up".
      p.catchup_seconds = p.lag < rules_.min_lag ? 0.0 : catchup_seconds(p.lag, *r);
    }
  }
  consumed_ = consumed;

  // (group, topic) aggregates: partition_lags holds each topic_lags entry's
  // partitions as one run, in the same order.
  size_t j = 0;
  for (auto& t : lag.topic_lags) {
    while (j < lag.partition_lags.size() &&
           std::tie(lag.partition_lags[j].group, lag.partition_lags[j].topic) < std::tie(t.group, t.topic)) {
      ++j;
    }
    t.has_rates = true;
    for (; j < lag.partition_lags.size() && lag.partition_lags[j].group == t.group &&
           lag.partition_lags[j].topic == t.topic;
         ++j) {
      const auto& p = lag.partition_lags[j];
      t.has_rates = t.has_rates && p.has_rates;
      t.consume_rate += p.consume_rate;
      t.catchup_seconds = std::max(t.catchup_seconds, p.catchup_seconds);
    }
    if (!t.has_rates) t.consume_rate = t.catchup_seconds = 0;
  }
  // A group's status is its worst partition's.
  j = 0;
  for (auto& grp : lag.groups) {
    while (j < lag.partition_lags.size() && lag.partition_lags[j].group < grp.group) ++j;
    Status worst = Status::ok;
    bool any = false;
    for (; j < lag.partition_lags.size() && lag.partition_lags[j].group == grp.group; ++j) {
      worst = worse(worst, lag.partition_lags[j].status);
      any = true;
    }
    grp.has_status = grp.has_lag && any;
    grp.status = grp.has_status ? worst : Status::unknown;
  }
  lag.has_history = true;
  prev_ = std::make_shared<const ClusterLag>(std::move(lag));
  return prev_;
}

}  // namespace klag::lag
