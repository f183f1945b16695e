// produce: exactly N messages to each partition (or one), optionally with a
// fixed timestamp and inside a transaction that is committed, aborted, or
// held open (so the last stable offset stays below the high watermark).
#include "commands.h"
#include "producer.h"
#include "stop_signal.h"
#include "topic_admin.h"

#include <chrono>

namespace klag::workload {

namespace {
using namespace std::chrono_literals;

constexpr int kTransactionCallTimeoutMs = 30000;

struct ProduceOptions {
  ConnectOptions connect;
  std::string topic;
  int64_t count = 0;
  int32_t partition = -1;
  int64_t timestamp_ms = 0;
  std::string key_prefix;
  size_t value_bytes = 100;
  std::string transactional_id;
  bool abort = false;
  bool hold = false;
};

void produce(const ProduceOptions& o) {
  if ((o.abort || o.hold) && o.transactional_id.empty()) {
    throw WorkloadError("--abort and --hold need --transactional-id");
  }
  Settings extra;
  if (!o.transactional_id.empty()) {
    extra.emplace_back("transactional.id", o.transactional_id);
    // A held transaction must outlive the default 60 s broker-side timeout
    // (the broker caps this at transaction.max.timeout.ms, 15 min).
    if (o.hold) extra.emplace_back("transaction.timeout.ms", "600000");
  }
  Producer producer(o.connect, extra);
  rd_kafka_t* rk = producer.handle();

  const int partitions = partition_count(rk, o.topic);
  std::vector<int32_t> targets;
  if (o.partition >= 0) {
    if (o.partition >= partitions) {
      throw WorkloadError("topic " + o.topic + " has no partition " + std::to_string(o.partition));
    }
    targets.push_back(o.partition);
  } else {
    for (int32_t p = 0; p < partitions; ++p) targets.push_back(p);
  }

  const bool transactional = !o.transactional_id.empty();
  if (transactional) {
    check(rd_kafka_init_transactions(rk, kTransactionCallTimeoutMs), "init transactions");
    check(rd_kafka_begin_transaction(rk), "begin transaction");
  }

  const std::string value(o.value_bytes, 'x');
  for (int32_t p : targets) {
    for (int64_t i = 0; i < o.count; ++i) {
      std::string key = o.key_prefix.empty() ? std::string() : o.key_prefix + std::to_string(i);
      producer.send(o.topic, p, key, value, o.timestamp_ms);
      if (i % 1024 == 0) producer.poll();
    }
  }
  producer.flush(120s);
  const uint64_t expected = static_cast<uint64_t>(o.count) * targets.size();
  if (producer.delivered() != expected) {
    throw WorkloadError("delivered " + std::to_string(producer.delivered()) + " of " + std::to_string(expected));
  }

  if (!transactional) {
    print_line("produced " + std::to_string(expected));
    return;
  }
  if (o.hold) {
    print_line("produced " + std::to_string(expected));
    while (!stop_requested()) sleep_unless_stopped(1s);
  }
  if (o.abort) {
    check(rd_kafka_abort_transaction(rk, kTransactionCallTimeoutMs), "abort transaction");
  } else {
    check(rd_kafka_commit_transaction(rk, kTransactionCallTimeoutMs), "commit transaction");
  }
  print_line(o.hold ? (o.abort ? "aborted" : "committed") : "produced " + std::to_string(expected));
}
}  // namespace

void register_produce(CLI::App& app) {
  auto o = make_options<ProduceOptions>();
  auto* sub = app.add_subcommand("produce", "produce N messages to each partition of a topic (or to one)");
  add_connect_options(sub, o->connect);
  sub->add_option("--topic", o->topic)->required();
  sub->add_option("--count", o->count, "messages per partition")->required()->check(CLI::NonNegativeNumber);
  sub->add_option("--partition", o->partition, "only this partition")->check(CLI::NonNegativeNumber);
  sub->add_option("--timestamp-ms", o->timestamp_ms, "explicit CreateTime for every message (ms since epoch)")
      ->check(CLI::PositiveNumber);
  sub->add_option("--key-prefix", o->key_prefix, "keys are <prefix><index>; default: no key");
  sub->add_option("--value-bytes", o->value_bytes, "payload size")->capture_default_str();
  sub->add_option("--transactional-id", o->transactional_id, "produce inside one transaction");
  sub->add_flag("--abort", o->abort, "abort the transaction instead of committing it");
  sub->add_flag("--hold", o->hold,
                "keep the transaction open after printing 'produced N' until SIGTERM/SIGINT, then end it "
                "and print 'committed' or 'aborted'");
  sub->callback([o] { produce(*o); });
}

}  // namespace klag::workload
