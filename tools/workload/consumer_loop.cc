#include "consumer_loop.h"

#include "stop_signal.h"
#include "topic_admin.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace klag::workload {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Paces to `rate` messages/s. Credit for idle time is capped at one second,
// so a consumer that was caught up does not burst after a pause.
class Pacer {
 public:
  explicit Pacer(double rate) : rate_(rate), next_(Clock::now()) {}
  // How long to wait before the next message may be consumed.
  Clock::duration wait() const { return rate_ > 0 ? std::max<Clock::duration>(next_ - Clock::now(), 0s) : 0s; }
  void consumed() {
    if (rate_ <= 0) return;
    next_ = std::max(next_, Clock::now() - 1s) +
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate_));
  }

 private:
  double rate_;
  Clock::time_point next_;
};

}  // namespace

void run_consumer(const ConnectOptions& connect, const ConsumeOptions& options, std::atomic<uint64_t>& consumed) {
  Settings settings = {
      {"group.id", options.group},
      // Auto commit commits what poll() returned: the committed position
      // trails consumption by at most one interval.
      {"enable.auto.commit", "true"},
      {"auto.commit.interval.ms", std::to_string(options.commit_interval_ms)},
      // A new group starts at the beginning, so lag is visible at once.
      {"auto.offset.reset", "earliest"},
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
      // Rate-limited consumers would otherwise prefetch up to 64 MB.
      {"queued.max.messages.kbytes", "1024"},
  };
  if (!options.client_id.empty()) settings.emplace_back("client.id", options.client_id);
  auto rk = make_client(RD_KAFKA_CONSUMER, connect, settings);
  rd_kafka_poll_set_consumer(rk.get());
  // Subscribing to a missing topic is silently idle; a typo should fail.
  for (const auto& t : options.topics) partition_count(rk.get(), t);

  PartitionListPtr topics(rd_kafka_topic_partition_list_new(static_cast<int>(options.topics.size())));
  for (const auto& t : options.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  check(rd_kafka_subscribe(rk.get(), topics.get()), "subscribe group " + options.group);

  Pacer pacer(options.rate);
  while (!stop_requested()) {
    if (auto w = pacer.wait(); w > 0s) {
      sleep_unless_stopped(std::min<Clock::duration>(w, 100ms));
      continue;
    }
    MessagePtr msg(rd_kafka_consumer_poll(rk.get(), 100));
    if (!msg) continue;
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Transient (broker restarts in fault tests): report and keep going.
      if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        std::fprintf(stderr, "klag-workload: group %s: %s\n", options.group.c_str(),
                     rd_kafka_message_errstr(msg.get()));
      }
      continue;
    }
    consumed.fetch_add(1);
    pacer.consumed();
  }
  // Explicit close: final commit and LeaveGroup, with its error reported.
  check(rd_kafka_consumer_close(rk.get()), "close consumer of group " + options.group);
}

}  // namespace klag::workload
