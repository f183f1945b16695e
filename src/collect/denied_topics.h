// Topics the cluster's principal may not read: a Fetch for time lag answered
// TOPIC_AUTHORIZATION_FAILED (Describe without Read). A denied topic is
// skipped for `retry_after`, so cycles spend neither fetches nor broker
// authorizer log lines on it, then tried again, so a Read granted later is
// picked up within `retry_after`. The same interval bounds how often a
// denial is reported: once per topic per `retry_after` at most.
//
// Pure: callers pass `now`. Not thread-safe: one cluster loop owns it.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace klag::collect {

class DeniedTopics {
 public:
  using Clock = std::chrono::steady_clock;

  explicit DeniedTopics(Clock::duration retry_after) : retry_after_(retry_after) {}

  // True while `topic` was denied less than retry_after ago: do not fetch it.
  bool skip(std::string_view topic, Clock::time_point now) const;
  // A fetch of `topic` was denied at `now`. True when this is news worth
  // reporting: the first denial, or the first after a retry.
  bool record_denied(const std::string& topic, Clock::time_point now);
  // A record of `topic` was read. True when it had been denied before.
  bool record_read(std::string_view topic);
  // Forgets topics not denied for 2 x retry_after (deleted, or no longer
  // needed by any group).
  void expire(Clock::time_point now);
  size_t size() const { return last_denied_.size(); }

 private:
  Clock::duration retry_after_;
  std::map<std::string, Clock::time_point, std::less<>> last_denied_;
};

}  // namespace klag::collect
