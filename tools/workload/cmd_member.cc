// member: a live, idle group member. It joins, pauses everything it is
// assigned (so committed offsets stay exactly as chosen), optionally commits
// chosen offsets as a member, prints "ready", and heartbeats until stopped.
#include "commands.h"
#include "group_offsets.h"
#include "stop_signal.h"
#include "topic_admin.h"

#include <chrono>
#include <cstdio>

namespace klag::workload {

namespace {
using Clock = std::chrono::steady_clock;

struct MemberOptions {
  ConnectOptions connect;
  std::string group;
  std::vector<std::string> topics;
  std::vector<std::string> commits;
  std::string client_id;
  int assignment_timeout_s = 60;
};

struct AssignmentState {
  bool received = false;  // a rebalance completed, even with zero partitions
  int partitions = 0;
};

// Served from rd_kafka_consumer_poll on the main thread. The range assignor
// is eager: every rebalance revokes everything, then assigns afresh.
void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* state = static_cast<AssignmentState*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // Pause right behind the assign, in the same op queue: the first fetch
    // is issued only after the committed offsets were looked up, by which
    // time the partitions are paused.
    if (auto e = rd_kafka_assign(rk, parts)) std::fprintf(stderr, "klag-workload: assign: %s\n", rd_kafka_err2str(e));
    rd_kafka_pause_partitions(rk, parts);
    state->received = true;
    state->partitions = parts->cnt;
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

void drain_one(rd_kafka_t* rk, const std::string& group) {
  MessagePtr msg(rd_kafka_consumer_poll(rk, 100));
  // Messages are never expected (all paused) and never used.
  if (msg && msg->err != RD_KAFKA_RESP_ERR_NO_ERROR && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    std::fprintf(stderr, "klag-workload: group %s: %s\n", group.c_str(), rd_kafka_message_errstr(msg.get()));
  }
}

void member(const MemberOptions& o) {
  auto commits = parse_offset_specs(o.commits);
  AssignmentState state;
  Settings settings = {
      {"group.id", o.group},
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
      {"partition.assignment.strategy", "range"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
  };
  if (!o.client_id.empty()) settings.emplace_back("client.id", o.client_id);
  auto rk = make_client(RD_KAFKA_CONSUMER, o.connect, settings, [&state](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, &state);
  });
  rd_kafka_poll_set_consumer(rk.get());
  // A missing topic would just give an empty assignment and a misleading "ready".
  for (const auto& t : o.topics) partition_count(rk.get(), t);

  PartitionListPtr topics(rd_kafka_topic_partition_list_new(static_cast<int>(o.topics.size())));
  for (const auto& t : o.topics) rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  check(rd_kafka_subscribe(rk.get(), topics.get()), "subscribe");

  auto deadline = Clock::now() + std::chrono::seconds(o.assignment_timeout_s);
  while (!state.received) {
    if (stop_requested()) throw WorkloadError("stopped before the group assigned partitions");
    if (Clock::now() > deadline) {
      throw WorkloadError("no assignment for group " + o.group + " within " + std::to_string(o.assignment_timeout_s) +
                          " s");
    }
    drain_one(rk.get(), o.group);
  }
  std::fprintf(stderr, "klag-workload: member of %s, assigned %d partitions\n", o.group.c_str(), state.partitions);

  if (!commits.empty()) {
    // Committed as a member (with the current generation): the broker
    // rejects generation-less commits while the group has members.
    commit_offsets(rk.get(), commits);
    verify_committed(rk.get(), commits);
  }
  print_line("ready");

  while (!stop_requested()) drain_one(rk.get(), o.group);
  // LeaveGroup now rather than after session.timeout.ms.
  check(rd_kafka_consumer_close(rk.get()), "leave group " + o.group);
}
}  // namespace

void register_member(CLI::App& app) {
  auto o = make_options<MemberOptions>();
  auto* sub = app.add_subcommand(
      "member", "join a group without consuming; print 'ready' once assigned, leave on SIGTERM/SIGINT");
  add_connect_options(sub, o->connect);
  sub->add_option("--group", o->group)->required();
  sub->add_option("--topic", o->topics, "topic(s), comma-separated or repeated")->required()->delimiter(',');
  sub->add_option("--commit", o->commits, "TOPIC:PARTITION:OFFSET to commit once assigned (repeatable)");
  sub->add_option("--client-id", o->client_id);
  sub->add_option("--assignment-timeout-s", o->assignment_timeout_s)->capture_default_str();
  sub->callback([o] { member(*o); });
}

}  // namespace klag::workload
