// Reads the timestamp of the record at given (topic, partition, offset)s,
// for time lag. One consumer handle per cluster; every wanted offset is
// assigned in one call, so librdkafka sends about one Fetch per leader, and
// each partition is paused as soon as its first record arrives.
//
// Only the timestamp and offset of a record are kept: key, value and
// headers are never copied, logged or stored.
//
// Owns one librdkafka consumer handle (assign only: it never subscribes and
// never commits). Not thread-safe: the cluster's loop thread owns it.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <vector>

#include "kafka/admin_client.h"
#include "kafka/error.h"

namespace klag::kafka {

struct TimestampRequest {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;  // must be below the high watermark
};

enum class TimestampOutcome {
  found,         // a record at or after the offset was read
  end_of_log,    // nothing to read at the offset (e.g. only a control record left)
  out_of_range,  // the offset is below the log start now: retention got there first
  timed_out,     // no answer before the deadline
  denied,        // the principal may not read the topic (TOPIC_AUTHORIZATION_FAILED)
  failed,        // another fetch error that retrying within the round will not fix
};

struct TimestampAnswer {
  TimestampRequest request;
  TimestampOutcome outcome = TimestampOutcome::timed_out;
  int64_t timestamp_ms = 0;
  int64_t returned_offset = -1;  // > request.offset when records were removed
};

struct TimestampBatch {
  std::vector<TimestampAnswer> answers;  // one per request, same order
  // Key and value bytes of every record the fetches delivered, including the
  // rest of each record batch after the first record: the cost to brokers.
  uint64_t bytes_fetched = 0;
  uint64_t records_delivered = 0;
  std::vector<Error> errors;  // distinct fetch errors, for logging
};

struct TimestampReaderOptions {
  // Upper bound per partition per fetch. The broker still returns at least
  // one whole record batch, so this bounds a sample to about one batch.
  int max_partition_fetch_bytes = 64 * 1024;
  int fetch_max_bytes = 8 * 1024 * 1024;
  int queued_max_kbytes = 16 * 1024;
};

class TimestampReader {
 public:
  static std::expected<std::unique_ptr<TimestampReader>, Error> create(const ClientOptions& client,
                                                                       const TimestampReaderOptions& options = {});
  ~TimestampReader();
  TimestampReader(const TimestampReader&) = delete;
  TimestampReader& operator=(const TimestampReader&) = delete;
  TimestampReader(TimestampReader&&) = delete;
  TimestampReader& operator=(TimestampReader&&) = delete;

  // Reads every request until answered or the deadline. Requests must be
  // distinct (topic, partition) pairs: one offset per partition per call.
  TimestampBatch read(const std::vector<TimestampRequest>& requests, const Deadline& deadline);

  // True after a read that the deadline cut short; the reader must then be
  // discarded. librdkafka 2.0.2 leaves such a handle with work queued for
  // every partition that was still fetching, and later reads on it wait
  // behind that work: each cycle ran out of time again and took longer than
  // the last (2,000 partitions: 0.1, 0.5, 0.8, 1.4 ... 6.1 s; 15,000: the
  // next read spent 8 to 14 s unassigning). A fresh handle costs a
  // connection, and destroying the old one took 0.2-0.3 s at 15,000.
  bool spent() const { return spent_; }

 private:
  struct Impl;
  explicit TimestampReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  bool spent_ = false;
};

}  // namespace klag::kafka
