// Time lag sampling for one cluster: decides which record timestamps a cycle
// needs, serves what it can from the cache, reads the rest in batched rounds
// within the sampling deadline, and learns which topics are compacted and
// which it may not read.
//
// Owns the cluster's TimestampReader, the timestamp cache, the
// cleanup.policy cache and the denied topics. Not thread-safe: the cluster's loop thread owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <string>

#include "collect/denied_topics.h"
#include "collect/timestamp_cache.h"
#include "config/config.h"
#include "kafka/admin_client.h"
#include "kafka/timestamp_reader.h"
#include "lag/model.h"

namespace klag::collect {

struct SamplingStats {
  uint64_t reads = 0;       // offsets asked of Kafka (one per distinct offset not cached)
  uint64_t cache_hits = 0;  // timestamps served from the cache
  uint64_t timeouts = 0;    // offsets not answered before the deadline, or not tried
  uint64_t denied = 0;      // offsets of topics the principal may not read (not fetched, or refused)
  uint64_t bytes = 0;       // key+value bytes the reads delivered
  std::chrono::microseconds duration{0};
};

class TimeSampler {
 public:
  // Cache bound: enough for large estates, a few MB at most.
  static constexpr size_t kMaxCacheEntries = 200'000;
  // How long a topic whose Fetch was denied is skipped before one more try
  // (a Read granted meanwhile then shows within this), and how often such a
  // denial is logged per topic.
  static constexpr std::chrono::minutes kDeniedRetry{5};

  TimeSampler(kafka::ClientOptions client, config::TimestampSampling cfg);
  TimeSampler(const TimeSampler&) = delete;
  TimeSampler& operator=(const TimeSampler&) = delete;
  TimeSampler(TimeSampler&&) = delete;
  TimeSampler& operator=(TimeSampler&&) = delete;

  // Fills sample.timestamps and sample.compacted_topics (and sets
  // timestamps_enabled). Never fails the cycle: what is not read in time
  // simply has no time lag this cycle.
  SamplingStats run(lag::ClusterSample& sample, kafka::AdminClient& admin, const kafka::Deadline& cycle_deadline);

  // The bootstrap list of readers made from now on (the collector adds the
  // brokers metadata named). A running reader keeps its own.
  void set_bootstrap_servers(std::string servers) { client_.bootstrap_servers = std::move(servers); }

 private:
  // Drops the reader when a topic it has read no longer exists (or lost
  // partitions: deleted and recreated). With librdkafka 2.0.2 a consumer
  // handle that was once assigned partitions of a since-deleted topic grows
  // by about 390 bytes per such partition per second, for good (an error op
  // and its message, queued where nothing serves them: test_soak found it,
  // heaptrack placed it in librdkafka's metadata handling). A new handle
  // starts clean; it is made again when a cycle needs a read.
  void retire_reader_if_topics_went(const lag::ClusterSample& sample);
  // Drops the reader and what it was assigned; the next read makes a new
  // one. The handle is destroyed on a thread of its own: after a read cut
  // short at thousands of partitions librdkafka takes from 0.2 s to several
  // seconds to tear it down, which would hold up the cycle.
  void retire_reader();
  // True while a retired reader is still being destroyed.
  bool retiring() const;
  // After each read: a read cut short by the deadline with no answer at
  // all (librdkafka 2.0.2 starts fetching a topic new to a handle only
  // after its next topic scan, about a second in, so a fetch_timeout below
  // that never answers at scale) makes the next reader wait 1, 3, then 7
  // cycles (`retired`) instead of churning a handle every cycle; any answer
  // resets it. A reader with no time left to start reading counts as no
  // answer too. The third such read in a row logs a warning.
  void note_read(bool answered_any, bool retired);
  static constexpr int kMaxBackoffCycles = 7;
  static constexpr int kFruitlessWarnAfter = 3;

  kafka::ClientOptions client_;
  config::TimestampSampling cfg_;
  std::unique_ptr<kafka::TimestampReader> reader_;
  // The destruction of the last retired reader (see retire_reader); no new
  // reader is made until it is done, so at most one handle exists at a time.
  std::future<void> retiring_;
  int fruitless_reads_ = 0;  // reads in a row cut short without any answer
  int cycles_to_skip_ = 0;   // runs left with no new reader (back-off)
  // Topics the current reader was assigned, with the highest partition.
  std::map<std::string, int32_t, std::less<>> reader_topics_;
  TimestampCache cache_;
  DeniedTopics denied_{kDeniedRetry};
  struct Policy {
    bool compact = false;
    std::chrono::steady_clock::time_point fetched;
  };
  std::map<std::string, Policy> cleanup_policy_;
};

}  // namespace klag::collect
