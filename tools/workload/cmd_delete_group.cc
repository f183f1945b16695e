// delete-group: DeleteGroups for a group without members (its committed
// offsets go with it), as an operator removing an abandoned group does.
#include "commands.h"
#include "topic_admin.h"

namespace klag::workload {

namespace {
struct DeleteGroupOptions {
  ConnectOptions connect;
  std::string group;
};

void delete_group(const DeleteGroupOptions& o) {
  auto rk = make_client(RD_KAFKA_PRODUCER, o.connect, {});
  DeleteGroupPtr dg(rd_kafka_DeleteGroup_new(o.group.c_str()));
  auto opts = admin_options(rk.get(), RD_KAFKA_ADMIN_OP_DELETEGROUPS);
  QueuePtr q(rd_kafka_queue_new(rk.get()));
  rd_kafka_DeleteGroup_t* groups[] = {dg.get()};
  rd_kafka_DeleteGroups(rk.get(), groups, 1, opts.get(), q.get());
  auto ev = await_result(q.get(), RD_KAFKA_EVENT_DELETEGROUPS_RESULT, "delete group " + o.group);
  size_t n = 0;
  const rd_kafka_group_result_t** results =
      rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev.get()), &n);
  if (n != 1) throw WorkloadError("delete group " + o.group + ": unexpected result count");
  if (const rd_kafka_error_t* err = rd_kafka_group_result_error(results[0])) {
    throw WorkloadError("delete group " + o.group + ": " + rd_kafka_error_string(err));
  }
  print_line("deleted " + o.group);
}
}  // namespace

void register_delete_group(CLI::App& app) {
  auto o = make_options<DeleteGroupOptions>();
  auto* sub = app.add_subcommand("delete-group", "delete a consumer group that has no members");
  add_connect_options(sub, o->connect);
  sub->add_option("--group", o->group)->required();
  sub->callback([o] { delete_group(*o); });
}

}  // namespace klag::workload
