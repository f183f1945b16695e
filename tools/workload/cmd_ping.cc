// ping: is a broker up and answering metadata requests?
#include "commands.h"

namespace klag::workload {

namespace {
struct PingOptions {
  ConnectOptions connect;
  int timeout_ms = 5000;
};

void ping(PingOptions& o) {
  // Quiet: a broker that is still starting makes librdkafka log
  // "connection refused", which is the expected answer here.
  o.connect.quiet = true;
  auto rk = make_client(RD_KAFKA_PRODUCER, o.connect, {});
  const rd_kafka_metadata_t* raw = nullptr;
  // all_topics=0 and no topic: asks for the broker list only.
  check(rd_kafka_metadata(rk.get(), 0, nullptr, &raw, o.timeout_ms), "no metadata from " + o.connect.bootstrap);
  MetadataPtr md(raw);
  if (md->broker_cnt < 1) throw WorkloadError("metadata from " + o.connect.bootstrap + " lists no brokers");
  print_line("brokers " + std::to_string(md->broker_cnt));
}
}  // namespace

void register_ping(CLI::App& app) {
  auto o = make_options<PingOptions>();
  auto* sub = app.add_subcommand("ping", "exit 0 if the cluster answers a metadata request");
  add_connect_options(sub, o->connect);
  sub->add_option("--timeout-ms", o->timeout_ms, "how long to wait for an answer")->capture_default_str();
  sub->callback([o] { ping(*o); });
}

}  // namespace klag::workload
