// create-topic / delete-topic.
#include "commands.h"
#include "topic_admin.h"

namespace klag::workload {

namespace {
struct CreateTopicOptions {
  ConnectOptions connect;
  std::string topic;
  int partitions = 1;
  std::vector<std::string> configs;
  bool if_not_exists = false;
  int replication = 1;
};

struct DeleteTopicOptions {
  ConnectOptions connect;
  std::string topic;
  bool if_exists = false;
};

void create(const CreateTopicOptions& o) {
  Settings configs;
  for (const auto& kv : o.configs) configs.push_back(split_key_value(kv));
  auto rk = make_client(RD_KAFKA_PRODUCER, o.connect, {});
  auto outcome = create_topic(rk.get(), o.topic, o.partitions, configs, o.if_not_exists, o.replication);
  print_line((outcome == CreateOutcome::created ? "created " : "exists ") + o.topic);
}

void remove(const DeleteTopicOptions& o) {
  auto rk = make_client(RD_KAFKA_PRODUCER, o.connect, {});
  print_line((delete_topic(rk.get(), o.topic, o.if_exists) ? "deleted " : "absent ") + o.topic);
}
}  // namespace

void register_topic_commands(CLI::App& app) {
  auto c = make_options<CreateTopicOptions>();
  auto* create_cmd = app.add_subcommand("create-topic", "create a topic and wait for its leaders");
  add_connect_options(create_cmd, c->connect);
  create_cmd->add_option("--topic", c->topic)->required();
  create_cmd->add_option("--partitions", c->partitions)->required()->check(CLI::PositiveNumber);
  create_cmd->add_option("--replication", c->replication, "replicas per partition; -1: the broker's default")
      ->check(CLI::Range(-1, 16));
  create_cmd->add_option("--config", c->configs, "topic config key=value (repeatable)");
  create_cmd->add_flag("--if-not-exists", c->if_not_exists, "an existing topic with this partition count is fine");
  create_cmd->callback([c] { create(*c); });

  auto d = make_options<DeleteTopicOptions>();
  auto* delete_cmd = app.add_subcommand("delete-topic", "delete a topic and wait until it is gone");
  add_connect_options(delete_cmd, d->connect);
  delete_cmd->add_option("--topic", d->topic)->required();
  delete_cmd->add_flag("--if-exists", d->if_exists, "a missing topic is fine");
  delete_cmd->callback([d] { remove(*d); });
}

}  // namespace klag::workload
