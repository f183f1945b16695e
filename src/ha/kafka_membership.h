// Keeps this replica a member of a coordination consumer group and tracks
// which of the topic's partitions it holds. Both Kafka-based HA modes use
// it: the holder of partition 0 is the leader; with sharding, each held
// partition is a shard of the consumer groups to collect.
//
// A thread joins (retrying with backoff while the brokers are unreachable)
// and polls every 100 ms. What it reports is trusted only while that thread
// keeps polling: once it has not polled for half a session timeout (the
// process was frozen, or starved), held() returns nothing, so a replica
// whose session may have expired never acts on its old assignment; the
// thread then leaves and rejoins rather than trust it.
//
// Thread-safe: start/stop from the owning thread, held() from any thread.
// The change callback runs on the membership thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "config/config.h"
#include "kafka/group_member.h"

namespace klag::ha {

using Clock = std::chrono::steady_clock;

struct Holding {
  std::vector<int32_t> partitions;  // sorted
  int total = 0;                    // partitions of the topic; 0 before the first join
};

class KafkaMembership {
 public:
  using OnChange = std::function<void(const Holding&)>;

  explicit KafkaMembership(kafka::MemberOptions options);
  ~KafkaMembership();  // stop()
  KafkaMembership(const KafkaMembership&) = delete;
  KafkaMembership& operator=(const KafkaMembership&) = delete;
  KafkaMembership(KafkaMembership&&) = delete;
  KafkaMembership& operator=(KafkaMembership&&) = delete;

  void start(OnChange on_change);
  // Leaves the group (bounded by ~1 s) and joins the thread.
  void stop();
  // The partitions held as of `now`; none once the poll thread is stalled.
  Holding held(Clock::time_point now) const;

 private:
  void run();
  void report(Holding h, Clock::time_point polled);

  kafka::MemberOptions options_;
  std::chrono::milliseconds stall_limit_;
  OnChange on_change_;
  mutable std::mutex mu_;
  Holding holding_;
  Clock::time_point last_poll_{};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

// The options of a coordination group member on the cluster `k` names,
// with that cluster's consumer_properties (authentication).
kafka::MemberOptions member_options(const config::Config& config, const config::KafkaCoordination& k,
                                    const std::string& identity, int partitions);

}  // namespace klag::ha
