// consume: a live consumer at a bounded rate, committing as it goes.
#include "commands.h"
#include "consumer_loop.h"

namespace klag::workload {

namespace {
struct ConsumeCommandOptions {
  ConnectOptions connect;
  ConsumeOptions consume;
};

void consume(const ConsumeCommandOptions& o) {
  std::atomic<uint64_t> consumed{0};
  run_consumer(o.connect, o.consume, consumed);
  print_line("consumed " + std::to_string(consumed.load()));
}
}  // namespace

void register_consume(CLI::App& app) {
  auto o = make_options<ConsumeCommandOptions>();
  auto* sub = app.add_subcommand("consume", "consume and commit until SIGTERM/SIGINT, then print 'consumed N'");
  add_connect_options(sub, o->connect);
  sub->add_option("--group", o->consume.group)->required();
  sub->add_option("--topic", o->consume.topics, "topic(s), comma-separated or repeated")->required()->delimiter(',');
  sub->add_option("--rate", o->consume.rate, "messages per second; 0 = unlimited")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--commit-interval-ms", o->consume.commit_interval_ms)
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--client-id", o->consume.client_id);
  sub->callback([o] { consume(*o); });
}

}  // namespace klag::workload
