// Cache of message timestamps by (topic, partition, offset). The record at
// an offset never changes (until it is deleted, which moves the log start
// past it and stops anyone from asking), so an entry never goes stale; it
// only stops being useful. Entries expire once no group has needed them for
// `ttl`, and the cache never holds more than `max_entries`.
//
// Pure: callers pass `now`. Not thread-safe: one cluster loop owns it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>

namespace klag::collect {

struct TimestampSample {
  int64_t timestamp_ms = 0;    // the record's timestamp (CreateTime or LogAppendTime)
  int64_t returned_offset = 0;  // offset of the record actually read (> requested when records were removed)
};

class TimestampCache {
 public:
  using Clock = std::chrono::steady_clock;
  struct Key {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = 0;
    auto operator<=>(const Key&) const = default;
  };

  TimestampCache(std::chrono::milliseconds ttl, size_t max_entries) : ttl_(ttl), max_entries_(max_entries) {}

  // A hit also marks the entry as needed at `now`.
  std::optional<TimestampSample> lookup(const Key& key, Clock::time_point now);
  void insert(const Key& key, TimestampSample sample, Clock::time_point now);
  // Drops entries not needed since now - ttl, then the least recently
  // needed ones beyond max_entries. Returns how many were dropped.
  size_t expire(Clock::time_point now);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    TimestampSample sample;
    Clock::time_point last_needed;
  };
  std::chrono::milliseconds ttl_;
  size_t max_entries_;
  std::map<Key, Entry> entries_;
};

}  // namespace klag::collect
