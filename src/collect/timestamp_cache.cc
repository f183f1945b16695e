#include "collect/timestamp_cache.h"

#include <algorithm>
#include <vector>

namespace klag::collect {

std::optional<TimestampSample> TimestampCache::lookup(const Key& key, Clock::time_point now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  it->second.last_needed = now;
  return it->second.sample;
}

void TimestampCache::insert(const Key& key, TimestampSample sample, Clock::time_point now) {
  entries_.insert_or_assign(key, Entry{sample, now});
}

size_t TimestampCache::expire(Clock::time_point now) {
  const size_t before = entries_.size();
  std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.last_needed > ttl_; });
  if (entries_.size() > max_entries_) {
    // Keep the most recently needed max_entries_.
    std::vector<Clock::time_point> times;
    times.reserve(entries_.size());
    for (const auto& [_, e] : entries_) times.push_back(e.last_needed);
    const size_t drop = entries_.size() - max_entries_;
    std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(drop - 1), times.end());
    const Clock::time_point cutoff = times[drop - 1];
    size_t dropped = 0;
    for (auto it = entries_.begin(); it != entries_.end() && dropped < drop;) {
      if (it->second.last_needed <= cutoff) {
        it = entries_.erase(it);
        ++dropped;
      } else {
        ++it;
      }
    }
  }
  return before - entries_.size();
}

}  // namespace klag::collect
