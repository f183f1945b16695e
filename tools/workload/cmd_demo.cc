// demo: a small, steady workload with three groups whose lag behaves
// differently, for the README demo and manual testing of the exporter:
//   demo-fast     consumes demo-orders and demo-payments, keeps up (lag ~0)
//   demo-slow     consumes demo-orders at a third of its produce rate (lag grows)
//   demo-stopped  committed once on demo-payments at start, no member (lag grows);
//                 demo-payments keeps one minute of data, so after a minute or
//                 two retention deletes records demo-stopped never read (data
//                 loss, which the demo's Prometheus alerts on)
#include "commands.h"
#include "consumer_loop.h"
#include "group_offsets.h"
#include "producer.h"
#include "stop_signal.h"
#include "topic_admin.h"

#include <chrono>
#include <cstdio>
#include <thread>

namespace klag::workload {

namespace {
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kOrders = "demo-orders";
const std::string kPayments = "demo-payments";
constexpr int kOrdersPartitions = 3;
constexpr int kPaymentsPartitions = 2;
constexpr auto kSummaryInterval = 10s;

struct DemoOptions {
  ConnectOptions connect;
  double rate = 20;
};

struct Counters {
  std::atomic<uint64_t> produced{0};
  std::atomic<uint64_t> fast{0};
  std::atomic<uint64_t> slow{0};
};

void create_topics(const ConnectOptions& connect) {
  auto admin = make_client(RD_KAFKA_PRODUCER, connect, {});
  create_topic(admin.get(), kOrders, kOrdersPartitions, {}, true);
  // One minute of retention in 10-second segments: data loss soon.
  create_topic(admin.get(), kPayments, kPaymentsPartitions, {{"retention.ms", "60000"}, {"segment.ms", "10000"}}, true);
}

// demo-stopped: commit halfway between log start and end on each payments
// partition, once. Its lag is then > 0 (or 0 on a fresh topic) and grows
// with every payment produced, as for a consumer that died.
void commit_stopped_group(const ConnectOptions& connect) {
  auto rk = make_client(RD_KAFKA_CONSUMER, connect, {{"group.id", "demo-stopped"}, {"enable.auto.commit", "false"}});
  std::vector<OffsetSpec> offsets;
  for (int32_t p = 0; p < kPaymentsPartitions; ++p) {
    int64_t low = 0, high = 0;
    // Right after creation the broker may still answer "not leader" for a
    // moment, though metadata already names it: retry for a while.
    auto deadline = Clock::now() + 15s;
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_query_watermark_offsets(rk.get(), kPayments.c_str(), p, &low, &high, 5000)) !=
               RD_KAFKA_RESP_ERR_NO_ERROR &&
           Clock::now() < deadline && !stop_requested()) {
      std::this_thread::sleep_for(200ms);
    }
    check(err, "watermarks of " + kPayments + ":" + std::to_string(p));
    offsets.push_back({kPayments, p, low + (high - low) / 2});
  }
  commit_offsets(rk.get(), offsets);
}

// Round-robin over all five partitions at `rate` messages/s in total.
void produce_steadily(const ConnectOptions& connect, double rate, Counters& counters) {
  Producer producer(connect);
  std::vector<std::pair<const std::string*, int32_t>> targets;
  for (int32_t p = 0; p < kOrdersPartitions; ++p) targets.emplace_back(&kOrders, p);
  for (int32_t p = 0; p < kPaymentsPartitions; ++p) targets.emplace_back(&kPayments, p);

  const auto start = Clock::now();
  uint64_t sent = 0;
  while (!stop_requested()) {
    auto due = static_cast<uint64_t>(std::chrono::duration<double>(Clock::now() - start).count() * rate);
    for (; sent < due; ++sent) {
      const auto& [topic, partition] = targets[sent % targets.size()];
      producer.send(*topic, partition, "customer-" + std::to_string(sent % 100), "{\"seq\":" + std::to_string(sent) + "}");
    }
    producer.poll();
    counters.produced.store(producer.delivered());
    sleep_unless_stopped(20ms);
  }
  producer.flush(10s);
  counters.produced.store(producer.delivered());
}

// Runs `body` on a thread; a failure is reported and stops the whole demo.
std::thread guarded(const char* name, std::atomic<bool>& failed, std::function<void()> body) {
  return std::thread([name, &failed, body = std::move(body)] {
    try {
      body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "klag-workload demo: %s: %s\n", name, e.what());
      failed.store(true);
      request_stop();
    }
  });
}

void demo(const DemoOptions& o) {
  create_topics(o.connect);
  commit_stopped_group(o.connect);

  Counters counters;
  std::atomic<bool> failed{false};
  // Orders get 3/5 of the messages; demo-slow reads them at a third of that.
  const double slow_rate = o.rate * kOrdersPartitions / (kOrdersPartitions + kPaymentsPartitions) / 3;
  std::vector<std::thread> threads;
  threads.push_back(guarded("producer", failed, [&] { produce_steadily(o.connect, o.rate, counters); }));
  threads.push_back(guarded("demo-fast", failed, [&] {
    run_consumer(o.connect, {"demo-fast", {kOrders, kPayments}, 0, 1000, "demo-fast"}, counters.fast);
  }));
  threads.push_back(guarded("demo-slow", failed, [&] {
    run_consumer(o.connect, {"demo-slow", {kOrders}, slow_rate, 1000, "demo-slow"}, counters.slow);
  }));
  std::fprintf(stderr, "klag-workload demo: producing %.1f msg/s on %s and %s; Ctrl-C stops\n", o.rate,
               kOrders.c_str(), kPayments.c_str());

  auto next_summary = Clock::now() + kSummaryInterval;
  while (!stop_requested()) {
    sleep_unless_stopped(next_summary - Clock::now());
    if (stop_requested()) break;
    next_summary += kSummaryInterval;
    std::fprintf(stderr, "klag-workload demo: produced %llu, demo-fast consumed %llu, demo-slow consumed %llu\n",
                 static_cast<unsigned long long>(counters.produced.load()),
                 static_cast<unsigned long long>(counters.fast.load()),
                 static_cast<unsigned long long>(counters.slow.load()));
  }
  for (auto& t : threads) t.join();
  if (failed.load()) throw WorkloadError("a demo thread failed");
  std::fprintf(stderr, "klag-workload demo: stopped after producing %llu\n",
               static_cast<unsigned long long>(counters.produced.load()));
}
}  // namespace

void register_demo(CLI::App& app) {
  auto o = make_options<DemoOptions>();
  auto* sub = app.add_subcommand("demo", "run the demo workload until SIGINT/SIGTERM");
  add_connect_options(sub, o->connect);
  sub->add_option("--rate", o->rate, "messages per second, all topics together")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->callback([o] { demo(*o); });
}

}  // namespace klag::workload
