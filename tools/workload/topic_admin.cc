#include "topic_admin.h"

#include <thread>

namespace klag::workload {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kSettleTimeout = 30s;

bool has_all_leaders(const std::vector<PartitionInfo>& parts) {
  for (const auto& p : parts) {
    if (p.leader < 0 || p.err != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  }
  return true;
}

void wait_until_ready(rd_kafka_t* rk, const std::string& topic, int partitions) {
  auto deadline = Clock::now() + kSettleTimeout;
  while (Clock::now() < deadline) {
    auto parts = describe_topic(rk, topic, 5s);
    if (parts && has_all_leaders(*parts)) {
      if (static_cast<int>(parts->size()) == partitions) return;
      throw WorkloadError("topic " + topic + " has " + std::to_string(parts->size()) + " partitions, not " +
                          std::to_string(partitions));
    }
    std::this_thread::sleep_for(100ms);
  }
  throw WorkloadError("topic " + topic + " did not get " + std::to_string(partitions) +
                      " partitions with leaders within " + std::to_string(kSettleTimeout.count()) + " s");
}

void wait_until_gone(rd_kafka_t* rk, const std::string& topic) {
  auto deadline = Clock::now() + kSettleTimeout;
  while (Clock::now() < deadline) {
    if (!describe_topic(rk, topic, 5s)) return;
    std::this_thread::sleep_for(100ms);
  }
  throw WorkloadError("topic " + topic + " still listed " + std::to_string(kSettleTimeout.count()) +
                      " s after deletion");
}

}  // namespace

AdminOptionsPtr admin_options(rd_kafka_t* rk, rd_kafka_admin_op_t op, std::chrono::milliseconds timeout) {
  AdminOptionsPtr opts(rd_kafka_AdminOptions_new(rk, op));
  char errstr[512];
  check(rd_kafka_AdminOptions_set_request_timeout(opts.get(), timeout_ms(timeout), errstr, sizeof errstr),
        "admin request timeout");
  // For topic creation and deletion: the broker answers only once the
  // operation has completed (or this timeout passed), not when it started.
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
      op == RD_KAFKA_ADMIN_OP_DELETERECORDS) {
    check(rd_kafka_AdminOptions_set_operation_timeout(opts.get(), timeout_ms(timeout), errstr, sizeof errstr),
          "admin operation timeout");
  }
  return opts;
}

EventPtr await_result(rd_kafka_queue_t* q, rd_kafka_event_type_t type, const std::string& what,
                      std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout + 5s;
  while (Clock::now() < deadline) {
    EventPtr ev(rd_kafka_queue_poll(q, 200));
    if (!ev || rd_kafka_event_type(ev.get()) != type) continue;
    if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw WorkloadError(what + ": " + rd_kafka_event_error_string(ev.get()));
    }
    return ev;
  }
  throw WorkloadError(what + ": no answer within " +
                      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + " s");
}

std::optional<std::vector<PartitionInfo>> describe_topic(rd_kafka_t* rk, const std::string& topic,
                                                         std::chrono::milliseconds timeout) {
  // All topics: asking for one topic by handle could make librdkafka keep
  // re-requesting it, and a test cluster has few topics anyway.
  const rd_kafka_metadata_t* raw = nullptr;
  check(rd_kafka_metadata(rk, 1, nullptr, &raw, timeout_ms(timeout)), "metadata request");
  MetadataPtr md(raw);
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return std::nullopt;
    std::vector<PartitionInfo> parts;
    for (int j = 0; j < t.partition_cnt; ++j) {
      parts.push_back({t.partitions[j].id, t.partitions[j].leader, t.partitions[j].err});
    }
    return parts;
  }
  return std::nullopt;
}

int partition_count(rd_kafka_t* rk, const std::string& topic) {
  auto parts = describe_topic(rk, topic, 10s);
  if (!parts || parts->empty()) throw WorkloadError("topic " + topic + " does not exist");
  return static_cast<int>(parts->size());
}

CreateOutcome create_topic(rd_kafka_t* rk, const std::string& topic, int partitions, const Settings& configs,
                           bool if_not_exists, int replication) {
  char errstr[512];
  NewTopicPtr nt(rd_kafka_NewTopic_new(topic.c_str(), partitions, replication, errstr, sizeof errstr));
  if (!nt) throw WorkloadError("create topic " + topic + ": " + errstr);
  for (const auto& [k, v] : configs) {
    check(rd_kafka_NewTopic_set_config(nt.get(), k.c_str(), v.c_str()), "topic config " + k);
  }
  auto opts = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  QueuePtr q(rd_kafka_queue_new(rk));
  rd_kafka_NewTopic_t* topics[] = {nt.get()};
  rd_kafka_CreateTopics(rk, topics, 1, opts.get(), q.get());
  auto ev = await_result(q.get(), RD_KAFKA_EVENT_CREATETOPICS_RESULT, "create topic " + topic);

  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
  if (n != 1) throw WorkloadError("create topic " + topic + ": unexpected result count");
  auto outcome = CreateOutcome::created;
  switch (auto err = rd_kafka_topic_result_error(results[0])) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      break;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      if (!if_not_exists) throw WorkloadError("topic " + topic + " already exists");
      outcome = CreateOutcome::existed;
      break;
    default: {
      const char* msg = rd_kafka_topic_result_error_string(results[0]);
      throw WorkloadError("create topic " + topic + ": " + (msg ? msg : rd_kafka_err2str(err)));
    }
  }
  wait_until_ready(rk, topic, partitions);
  return outcome;
}

bool delete_topic(rd_kafka_t* rk, const std::string& topic, bool if_exists) {
  DeleteTopicPtr dt(rd_kafka_DeleteTopic_new(topic.c_str()));
  auto opts = admin_options(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
  QueuePtr q(rd_kafka_queue_new(rk));
  rd_kafka_DeleteTopic_t* topics[] = {dt.get()};
  rd_kafka_DeleteTopics(rk, topics, 1, opts.get(), q.get());
  auto ev = await_result(q.get(), RD_KAFKA_EVENT_DELETETOPICS_RESULT, "delete topic " + topic);

  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
  if (n != 1) throw WorkloadError("delete topic " + topic + ": unexpected result count");
  auto err = rd_kafka_topic_result_error(results[0]);
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    if (!if_exists) throw WorkloadError("topic " + topic + " does not exist");
    return false;
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* msg = rd_kafka_topic_result_error_string(results[0]);
    throw WorkloadError("delete topic " + topic + ": " + (msg ? msg : rd_kafka_err2str(err)));
  }
  wait_until_gone(rk, topic);
  return true;
}

int64_t delete_records(rd_kafka_t* rk, const std::string& topic, int32_t partition, int64_t before_offset) {
  PartitionListPtr offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), partition)->offset = before_offset;
  DeleteRecordsPtr del(rd_kafka_DeleteRecords_new(offsets.get()));
  auto opts = admin_options(rk, RD_KAFKA_ADMIN_OP_DELETERECORDS);
  QueuePtr q(rd_kafka_queue_new(rk));
  rd_kafka_DeleteRecords_t* dels[] = {del.get()};
  rd_kafka_DeleteRecords(rk, dels, 1, opts.get(), q.get());
  auto what = "delete records " + topic + ":" + std::to_string(partition);
  auto ev = await_result(q.get(), RD_KAFKA_EVENT_DELETERECORDS_RESULT, what);

  const rd_kafka_topic_partition_list_t* result =
      rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev.get()));
  if (result == nullptr || result->cnt != 1) throw WorkloadError(what + ": unexpected result");
  check(result->elems[0].err, what);
  return result->elems[0].offset;
}

}  // namespace klag::workload
