// delete-records: move a partition's log start offset, as retention would,
// without waiting for retention.
#include "commands.h"
#include "topic_admin.h"

namespace klag::workload {

namespace {
struct DeleteRecordsOptions {
  ConnectOptions connect;
  std::string topic;
  int32_t partition = 0;
  int64_t before = 0;
};

void run(const DeleteRecordsOptions& o) {
  auto rk = make_client(RD_KAFKA_PRODUCER, o.connect, {});
  print_line("low-watermark " + std::to_string(delete_records(rk.get(), o.topic, o.partition, o.before)));
}
}  // namespace

void register_delete_records(CLI::App& app) {
  auto o = make_options<DeleteRecordsOptions>();
  auto* sub = app.add_subcommand("delete-records", "delete a partition's records below an offset");
  add_connect_options(sub, o->connect);
  sub->add_option("--topic", o->topic)->required();
  sub->add_option("--partition", o->partition)->required()->check(CLI::NonNegativeNumber);
  sub->add_option("--before", o->before, "first offset to keep; -1 = the high watermark")
      ->required()
      ->check(CLI::Range(int64_t{-1}, INT64_MAX));
  sub->callback([o] { run(*o); });
}

}  // namespace klag::workload
