#include "kafka/timestamp_reader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "kafka/handles.h"
#include "kafka/make_handle.h"

namespace klag::kafka {
namespace {

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

constexpr std::chrono::milliseconds kPollSlice{100};

}  // namespace

struct TimestampReader::Impl {
  KafkaPtr rk;
};

TimestampReader::TimestampReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TimestampReader::~TimestampReader() {
  if (impl_ && impl_->rk) rd_kafka_assign(impl_->rk.get(), nullptr);
}

std::expected<std::unique_ptr<TimestampReader>, Error> TimestampReader::create(const ClientOptions& client,
                                                                               const TimestampReaderOptions& options) {
  auto rk = make_consumer_handle(
      client, {
                  // assign() needs a group id; nothing is ever subscribed or
                  // committed under it, so the group never shows up.
                  {"group.id", "klag-exporter-timestamp-reader"},
                  // Offsets below the high watermark exist even inside an
                  // open transaction; read_committed would stop at the LSO
                  // and leave such partitions waiting.
                  {"isolation.level", "read_uncommitted"},
                  // An offset at the end of the log answers at once instead
                  // of long-polling.
                  {"enable.partition.eof", "true"},
                  // The default jumps silently to the end; "error" reports an
                  // offset below the log start instead.
                  {"auto.offset.reset", "error"},
                  {"fetch.wait.max.ms", "50"},
                  {"fetch.error.backoff.ms", "100"},
                  {"max.partition.fetch.bytes", std::to_string(options.max_partition_fetch_bytes)},
                  {"fetch.max.bytes", std::to_string(options.fetch_max_bytes)},
                  {"queued.max.messages.kbytes", std::to_string(options.queued_max_kbytes)},
                  {"check.crcs", "false"},
              });
  if (!rk) return std::unexpected(rk.error());
  // Route the main queue's unsolicited errors to the consumer queue, which
  // read() polls, so they never pile up.
  rd_kafka_poll_set_consumer(rk->get());
  auto impl = std::make_unique<Impl>();
  impl->rk = std::move(*rk);
  return std::unique_ptr<TimestampReader>(new TimestampReader(std::move(impl)));
}

TimestampBatch TimestampReader::read(const std::vector<TimestampRequest>& requests, const Deadline& deadline) {
  rd_kafka_t* rk = impl_->rk.get();
  TimestampBatch batch;
  batch.answers.reserve(requests.size());
  for (const auto& r : requests) batch.answers.push_back({.request = r});
  if (requests.empty()) return batch;

  std::map<std::pair<std::string, int32_t>, size_t> index;
  PartitionListPtr assignment(rd_kafka_topic_partition_list_new(static_cast<int>(requests.size())));
  for (size_t i = 0; i < requests.size(); ++i) {
    index.emplace(std::pair{requests[i].topic, requests[i].partition}, i);
    rd_kafka_topic_partition_list_add(assignment.get(), requests[i].topic.c_str(), requests[i].partition)->offset =
        requests[i].offset;
  }
  // A fresh assignment every round (no seek/resume): librdkafka 2.0.x has
  // bugs when pause/resume/seek mix with fetching.
  if (auto err = rd_kafka_assign(rk, assignment.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    batch.errors.push_back(Error::from_code(err, "assign"));
    for (auto& a : batch.answers) a.outcome = TimestampOutcome::failed;
    return batch;
  }

  size_t pending = requests.size();
  std::set<int> seen_errors;
  auto settle = [&](size_t i, TimestampOutcome outcome) {
    TimestampAnswer& a = batch.answers[i];
    if (a.outcome != TimestampOutcome::timed_out) return false;  // already answered
    a.outcome = outcome;
    --pending;
    // Stop fetching this partition: its first record is all we need.
    PartitionListPtr one(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(one.get(), a.request.topic.c_str(), a.request.partition);
    rd_kafka_pause_partitions(rk, one.get());
    return true;
  };

  while (pending > 0 && !deadline.expired()) {
    const auto slice = std::max<int64_t>(1, std::min(deadline.remaining(), kPollSlice).count());
    MessagePtr msg(rd_kafka_consumer_poll(rk, static_cast<int>(slice)));
    if (!msg) continue;
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      batch.bytes_fetched += msg->len + msg->key_len;
      ++batch.records_delivered;
    }
    if (!msg->rkt) {
      // A consumer-level error with no partition (e.g. all brokers down).
      if (seen_errors.insert(msg->err).second) batch.errors.push_back(Error::from_code(msg->err, "fetch"));
      continue;
    }
    auto it = index.find({rd_kafka_topic_name(msg->rkt), msg->partition});
    if (it == index.end()) continue;
    const size_t i = it->second;
    switch (msg->err) {
      case RD_KAFKA_RESP_ERR_NO_ERROR:
        if (msg->offset < requests[i].offset) break;  // earlier record of a batch: skip
        if (settle(i, TimestampOutcome::found)) {
          rd_kafka_timestamp_type_t type;
          batch.answers[i].timestamp_ms = rd_kafka_message_timestamp(msg.get(), &type);
          batch.answers[i].returned_offset = msg->offset;
          if (type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) batch.answers[i].outcome = TimestampOutcome::failed;
        }
        break;
      case RD_KAFKA_RESP_ERR__PARTITION_EOF:
        settle(i, TimestampOutcome::end_of_log);
        break;
      case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        // Describe without Read: librdkafka 2.0.2 delivers the Fetch
        // response's partition error as a message for the partition (and
        // would retry it every fetch.error.backoff.ms), so stop here.
        settle(i, TimestampOutcome::denied);
        break;
      case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
        // These errors carry no assignment version, so one left over from an
        // earlier round can arrive now: only trust it for our offset.
        if (msg->offset == requests[i].offset) settle(i, TimestampOutcome::out_of_range);
        break;
      default:
        if (seen_errors.insert(msg->err).second) {
          batch.errors.push_back(Error::from_code(msg->err, "fetch " + requests[i].topic));
        }
        // Authorization and similar errors will not fix themselves in this
        // round; transient ones are retried by librdkafka until the deadline.
        if (classify(msg->err) == ErrorClass::fatal) settle(i, TimestampOutcome::failed);
        break;
    }
  }
  // Drop the assignment (queued records of it are discarded by librdkafka),
  // then clear the pauses: a pause outlives the assignment, and the next
  // round may assign the same partition at another offset. After a read cut
  // short, the handle is spent (see spent()): only the unassignment, which
  // is cheap at this point and lets the handle be destroyed cleanly.
  rd_kafka_assign(rk, nullptr);
  if (pending > 0) {
    spent_ = true;
    return batch;
  }
  rd_kafka_resume_partitions(rk, assignment.get());
  return batch;
}

}  // namespace klag::kafka
