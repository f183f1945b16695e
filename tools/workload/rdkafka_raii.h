// RAII owners for the librdkafka C objects klag-workload uses.
#pragma once

#include <librdkafka/rdkafka.h>

#include <memory>

namespace klag::workload {

// One deleter for every C destroy function: unique_ptr<T, Destroy<fn>>.
template <auto Fn>
struct Destroy {
  template <class T>
  void operator()(T* p) const noexcept {
    if (p != nullptr) Fn(p);
  }
};

// A consumer that joined a group must leave it (LeaveGroup, final auto
// commit) before destruction; otherwise the broker keeps the member until its
// session times out and group-state tests see a ghost member.
struct KafkaDestroy {
  void operator()(rd_kafka_t* rk) const noexcept {
    if (rk == nullptr) return;
    if (rd_kafka_type(rk) == RD_KAFKA_CONSUMER && !rd_kafka_consumer_closed(rk)) rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};

using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDestroy>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, Destroy<rd_kafka_conf_destroy>>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, Destroy<rd_kafka_queue_destroy>>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, Destroy<rd_kafka_event_destroy>>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, Destroy<rd_kafka_message_destroy>>;
using PartitionListPtr =
    std::unique_ptr<rd_kafka_topic_partition_list_t, Destroy<rd_kafka_topic_partition_list_destroy>>;
using AdminOptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, Destroy<rd_kafka_AdminOptions_destroy>>;
using NewTopicPtr = std::unique_ptr<rd_kafka_NewTopic_t, Destroy<rd_kafka_NewTopic_destroy>>;
using DeleteTopicPtr = std::unique_ptr<rd_kafka_DeleteTopic_t, Destroy<rd_kafka_DeleteTopic_destroy>>;
using DeleteRecordsPtr = std::unique_ptr<rd_kafka_DeleteRecords_t, Destroy<rd_kafka_DeleteRecords_destroy>>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, Destroy<rd_kafka_error_destroy>>;
using DeleteGroupPtr = std::unique_ptr<rd_kafka_DeleteGroup_t, Destroy<rd_kafka_DeleteGroup_destroy>>;

// rd_kafka_metadata_destroy takes a const pointer; the template covers it.
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, Destroy<rd_kafka_metadata_destroy>>;

}  // namespace klag::workload
