// An idempotent producer that counts delivery reports, so commands can
// promise exact message counts: any failed delivery is an error.
#pragma once

#include "client.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace klag::workload {

class Producer {
 public:
  // `extra` may add e.g. transactional.id; idempotence and acks=all are fixed.
  Producer(const ConnectOptions& connect, const Settings& extra = {});
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  rd_kafka_t* handle() const { return rk_.get(); }

  // Queues one message to an explicit partition (so per-partition counts are
  // exact), waiting while librdkafka's local queue is full.
  // timestamp_ms == 0 lets librdkafka stamp the current time.
  void send(const std::string& topic, int32_t partition, std::string_view key, std::string_view value,
            int64_t timestamp_ms = 0);

  // Serves delivery reports without blocking; call regularly in long runs.
  void poll() { rd_kafka_poll(rk_.get(), 0); }

  // Waits for all delivery reports; throws if any message failed.
  void flush(std::chrono::milliseconds timeout);

  uint64_t delivered() const { return delivered_.load(); }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque);
  void throw_if_failed();

  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  std::mutex mu_;
  std::string first_error_;
  // Last member: destroyed first, while the counters above still exist.
  KafkaPtr rk_;
};

}  // namespace klag::workload
