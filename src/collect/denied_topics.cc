#include "collect/denied_topics.h"

#include <iterator>

namespace klag::collect {

bool DeniedTopics::skip(std::string_view topic, Clock::time_point now) const {
  auto it = last_denied_.find(topic);
  return it != last_denied_.end() && now - it->second < retry_after_;
}

bool DeniedTopics::record_denied(const std::string& topic, Clock::time_point now) {
  auto [it, fresh] = last_denied_.try_emplace(topic, now);
  if (fresh) return true;
  // Several partitions (and rounds) of one topic are denied within a cycle:
  // only a denial after the skip period ended is news again.
  const bool news = now - it->second >= retry_after_;
  it->second = now;
  return news;
}

bool DeniedTopics::record_read(std::string_view topic) {
  auto it = last_denied_.find(topic);
  if (it == last_denied_.end()) return false;
  last_denied_.erase(it);
  return true;
}

void DeniedTopics::expire(Clock::time_point now) {
  for (auto it = last_denied_.begin(); it != last_denied_.end();) {
    it = now - it->second >= 2 * retry_after_ ? last_denied_.erase(it) : std::next(it);
  }
}

}  // namespace klag::collect
