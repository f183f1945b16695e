// stream: a steady producer, RATE messages/s to each partition of a topic
// (or to one), until SIGTERM/SIGINT; then prints "produced N".
#include "commands.h"
#include "producer.h"
#include "stop_signal.h"
#include "topic_admin.h"

#include <chrono>

namespace klag::workload {

namespace {
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct StreamOptions {
  ConnectOptions connect;
  std::string topic;
  int32_t partition = -1;
  double rate = 10;
  size_t value_bytes = 100;
};

void stream(const StreamOptions& o) {
  Producer producer(o.connect);
  const int partitions = partition_count(producer.handle(), o.topic);
  std::vector<int32_t> targets;
  if (o.partition >= 0) {
    if (o.partition >= partitions) throw WorkloadError("topic " + o.topic + " has no partition " + std::to_string(o.partition));
    targets.push_back(o.partition);
  } else {
    for (int32_t p = 0; p < partitions; ++p) targets.push_back(p);
  }
  const std::string value(o.value_bytes, 'x');
  print_line("streaming");
  // Paced by the clock, not by sleeps, so the rate holds on a busy machine.
  const auto start = Clock::now();
  uint64_t sent = 0;  // per partition
  while (!stop_requested()) {
    const auto due = static_cast<uint64_t>(std::chrono::duration<double>(Clock::now() - start).count() * o.rate);
    for (; sent < due; ++sent) {
      for (int32_t p : targets) producer.send(o.topic, p, {}, value);
    }
    producer.poll();
    sleep_unless_stopped(10ms);
  }
  producer.flush(30s);
  print_line("produced " + std::to_string(producer.delivered()));
}
}  // namespace

void register_stream(CLI::App& app) {
  auto o = make_options<StreamOptions>();
  auto* sub = app.add_subcommand("stream", "produce RATE messages/s to each partition of a topic until SIGTERM/SIGINT");
  add_connect_options(sub, o->connect);
  sub->add_option("--topic", o->topic)->required();
  sub->add_option("--partition", o->partition, "only this partition")->check(CLI::NonNegativeNumber);
  sub->add_option("--rate", o->rate, "messages per second to each partition")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--value-bytes", o->value_bytes, "payload size")->capture_default_str();
  sub->callback([o] { stream(*o); });
}

}  // namespace klag::workload
