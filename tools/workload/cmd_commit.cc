// commit: set a group's committed offsets while the group has no member.
#include "commands.h"
#include "group_offsets.h"

namespace klag::workload {

namespace {
struct CommitOptions {
  ConnectOptions connect;
  std::string group;
  std::vector<std::string> offsets;
};

void commit(const CommitOptions& o) {
  auto specs = parse_offset_specs(o.offsets);
  // A consumer handle with group.id but no subscription: it commits as a
  // "simple" client (generation -1), which the broker accepts only while
  // the group has no active members. Live groups use `member --commit`.
  auto rk = make_client(RD_KAFKA_CONSUMER, o.connect, {{"group.id", o.group}, {"enable.auto.commit", "false"}});
  commit_offsets(rk.get(), specs);
  verify_committed(rk.get(), specs);
  print_line("committed " + std::to_string(specs.size()));
}
}  // namespace

void register_commit(CLI::App& app) {
  auto o = make_options<CommitOptions>();
  auto* sub = app.add_subcommand("commit", "commit chosen offsets for a group that has no active member");
  add_connect_options(sub, o->connect);
  sub->add_option("--group", o->group)->required();
  sub->add_option("--offset", o->offsets, "TOPIC:PARTITION:OFFSET (repeatable)")->required();
  sub->callback([o] { commit(*o); });
}

}  // namespace klag::workload
