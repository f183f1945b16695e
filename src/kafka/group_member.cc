#include "kafka/group_member.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "kafka/handles.h"
#include "kafka/make_handle.h"

namespace klag::kafka {
namespace {

using std::chrono::milliseconds;

// Creates the topic; an existing one is fine (every replica tries).
std::expected<void, Error> create_topic(rd_kafka_t* rk, const MemberOptions& o, milliseconds timeout,
                                        const std::function<bool()>& stopping) {
  char errstr[512];
  NewTopicPtr nt(
      rd_kafka_NewTopic_new(o.topic.c_str(), o.partitions, -1, errstr, sizeof errstr));
  if (!nt) return std::unexpected(Error::from_code(RD_KAFKA_RESP_ERR__INVALID_ARG, "topic " + o.topic + ": " + errstr));
  AdminOptionsPtr opts(rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  rd_kafka_AdminOptions_set_request_timeout(opts.get(), static_cast<int>(timeout.count()), errstr, sizeof errstr);
  QueuePtr q(rd_kafka_queue_new(rk));
  rd_kafka_NewTopic_t* list[] = {nt.get()};
  rd_kafka_CreateTopics(rk, list, 1, opts.get(), q.get());
  EventPtr ev;
  const auto give_up = std::chrono::steady_clock::now() + timeout + milliseconds(1000);
  while (!ev && !stopping() && std::chrono::steady_clock::now() < give_up) {
    ev.reset(rd_kafka_queue_poll(q.get(), 100));
  }
  if (!ev) return std::unexpected(Error::timed_out("CreateTopics " + o.topic));
  if (auto err = rd_kafka_event_error(ev.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::unexpected(Error::from_code(err, "CreateTopics " + o.topic));
  }
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
  for (size_t i = 0; i < n; ++i) {
    auto err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::info("created coordination topic {} with {} partition(s)", o.topic, o.partitions);
    } else if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      return std::unexpected(Error::from_code(err, "CreateTopics " + o.topic));
    }
  }
  return {};
}

// The topic's partition count, once its metadata shows every partition.
std::expected<int, Error> partition_count(rd_kafka_t* rk, const std::string& topic, milliseconds timeout,
                                          const std::function<bool()>& stopping) {
  TopicPtr rkt(rd_kafka_topic_new(rk, topic.c_str(), nullptr));
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  Error last = Error::timed_out("Metadata " + topic);
  while (!stopping() && std::chrono::steady_clock::now() < give_up) {
    const rd_kafka_metadata_t* raw = nullptr;
    auto err = rd_kafka_metadata(rk, 0, rkt.get(), &raw, 500);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      MetadataPtr md(raw);
      if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[0].partition_cnt > 0) {
        return md->topics[0].partition_cnt;
      }
      if (md->topic_cnt == 1) last = Error::from_code(md->topics[0].err, "Metadata " + topic);
    } else {
      last = Error::from_code(err, "Metadata " + topic);
    }
    std::this_thread::sleep_for(milliseconds(200));  // a new topic's leaders are being elected
  }
  return std::unexpected(last);
}

}  // namespace

struct GroupMember::Impl {
  KafkaPtr rk;
  std::string topic;
  std::string group;
  rd_kafka_resp_err_t last_error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

GroupMember::GroupMember(std::unique_ptr<Impl> impl, int partitions)
    : impl_(std::move(impl)), topic_partitions_(partitions) {}

std::expected<std::unique_ptr<GroupMember>, Error> GroupMember::join(const MemberOptions& o, milliseconds timeout,
                                                                     const std::function<bool()>& stopping) {
  const auto join_deadline = std::chrono::steady_clock::now() + timeout;
  const auto session = o.session_timeout.count();
  // Three heartbeats per session, as the Java client does by default.
  const auto heartbeat = std::max<int64_t>(session / 3, 100);
  auto rk = make_consumer_handle(
      o.client,
      {{"group.id", o.group},
       {"session.timeout.ms", std::to_string(session)},
       {"heartbeat.interval.ms", std::to_string(heartbeat)},
       // librdkafka requires max.poll.interval.ms >= session.timeout.ms. The
       // HA loop polls every 100 ms; its own stall check is stricter.
       {"max.poll.interval.ms", std::to_string(std::max<int64_t>(session, 30000))},
       // Sticky and incremental: a member joining or leaving moves only the
       // partitions it must, so the leader keeps partition 0 while a peer
       // joins and owners keep their shards across rebalances.
       {"partition.assignment.strategy", "cooperative-sticky"},
       {"auto.offset.reset", "latest"},
       {"allow.auto.create.topics", "false"},
       // After the user's properties: a client.id set there for the
       // exporter's other handles must not hide which replica this is.
       {"client.id", o.client_id}},
      o.client_id);
  if (!rk) return std::unexpected(rk.error());
  if (auto created = create_topic(rk->get(), o, timeout / 2, stopping); !created) {
    // Without the right to create topics the topic may still exist.
    spdlog::warn("coordination topic {}: {}", o.topic, created.error().to_string());
  }
  // One budget for the whole join.
  const auto left = std::max(milliseconds(500), std::chrono::duration_cast<milliseconds>(
                                                     join_deadline - std::chrono::steady_clock::now()));
  auto count = partition_count(rk->get(), o.topic, left, stopping);
  if (!count) return std::unexpected(count.error());

  PartitionListPtr topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), o.topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(rk->get(), topics.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::unexpected(Error::from_code(err, "subscribe " + o.topic));
  }
  auto impl = std::make_unique<Impl>(Impl{std::move(*rk), o.topic, o.group});
  return std::unique_ptr<GroupMember>(new GroupMember(std::move(impl), *count));
}

GroupMember::~GroupMember() {
  rd_kafka_t* rk = impl_->rk.get();
  // With the cooperative assignor, 2.0.2 sends LeaveGroup on unsubscribe()
  // once the revocation is served, but not from the close path alone (the
  // peers would then wait for the session to expire). Unsubscribe and serve
  // the group until the assignment is handed back, then close.
  rd_kafka_unsubscribe(rk);
  const auto leave_by = std::chrono::steady_clock::now() + milliseconds(500);
  while (std::chrono::steady_clock::now() < leave_by && !poll(milliseconds(50)).empty()) {
  }
  poll(milliseconds(100));  // one more slice for the LeaveGroup round trip
  QueuePtr q(rd_kafka_queue_new(rk));
  ErrorPtr err(rd_kafka_consumer_close_queue(rk, q.get()));
  if (err) {
    // The handle's deleter skips the close protocol; peers wait for the
    // session timeout instead.
    spdlog::warn("coordination group: cannot leave cleanly: {}", rd_kafka_error_string(err.get()));
    return;
  }
  const auto give_up = std::chrono::steady_clock::now() + milliseconds(1000);
  while (!rd_kafka_consumer_closed(rk) && std::chrono::steady_clock::now() < give_up) {
    EventPtr ev(rd_kafka_queue_poll(q.get(), 50));  // no rebalance_cb: nothing to hand back
  }
  spdlog::debug("coordination group: {}", rd_kafka_consumer_closed(rk) ? "left" : "leaving timed out");
}

std::vector<int32_t> GroupMember::poll(milliseconds timeout) {
  rd_kafka_t* rk = impl_->rk.get();
  if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, static_cast<int>(timeout.count()))) {
    // Nothing is ever produced to the topic, so errors are group-level
    // news: an invalid session timeout, a denied group, a fatal error. They
    // leave this replica without leadership or shards: say so once per
    // change, not on every poll.
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (m->err != impl_->last_error) {
        spdlog::warn("coordination group {}: {}", impl_->group, rd_kafka_message_errstr(m));
        impl_->last_error = m->err;
      }
    }
    rd_kafka_message_destroy(m);
  }
  std::vector<int32_t> out;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(rk, &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  PartitionListPtr list(raw);
  for (int i = 0; i < list->cnt; ++i) {
    if (impl_->topic == list->elems[i].topic) out.push_back(list->elems[i].partition);
  }
  std::sort(out.begin(), out.end());
  if (!out.empty()) impl_->last_error = RD_KAFKA_RESP_ERR_NO_ERROR;  // working again
  return out;
}

}  // namespace klag::kafka
