#include "producer.h"

namespace klag::workload {

Producer::Producer(const ConnectOptions& connect, const Settings& extra) {
  Settings settings = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "5"},
  };
  settings.insert(settings.end(), extra.begin(), extra.end());
  rk_ = make_client(RD_KAFKA_PRODUCER, connect, settings, [this](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_dr_msg_cb(conf, &Producer::on_delivery);
    rd_kafka_conf_set_opaque(conf, this);
  });
}

void Producer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->delivered_.fetch_add(1);
    return;
  }
  self->failed_.fetch_add(1);
  std::lock_guard lock(self->mu_);
  if (self->first_error_.empty()) self->first_error_ = rd_kafka_err2str(msg->err);
}

void Producer::send(const std::string& topic, int32_t partition, std::string_view key, std::string_view value,
                    int64_t timestamp_ms) {
  for (;;) {
    auto err = rd_kafka_producev(rk_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                                 RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
                                 RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                 RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      check(err, "produce to " + topic + ":" + std::to_string(partition));
      return;
    }
    // Local queue full: deliver some, then retry the same message.
    rd_kafka_poll(rk_.get(), 50);
    throw_if_failed();
  }
}

void Producer::flush(std::chrono::milliseconds timeout) {
  auto err = rd_kafka_flush(rk_.get(), timeout_ms(timeout));
  throw_if_failed();
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    throw WorkloadError(std::to_string(rd_kafka_outq_len(rk_.get())) + " messages still undelivered after " +
                        std::to_string(timeout.count()) + " ms");
  }
  check(err, "flush");
}

void Producer::throw_if_failed() {
  char reason[512];
  if (auto fatal = rd_kafka_fatal_error(rk_.get(), reason, sizeof reason)) {
    throw WorkloadError(std::string("producer fatal error: ") + rd_kafka_err2str(fatal) + ": " + reason);
  }
  if (auto n = failed_.load(); n > 0) {
    std::lock_guard lock(mu_);
    throw WorkloadError(std::to_string(n) + " deliveries failed, first: " + first_error_);
  }
}

}  // namespace klag::workload
