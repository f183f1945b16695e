#include "kafka/error.h"

#include <librdkafka/rdkafka.h>

namespace klag::kafka {

const char* to_string(ErrorClass c) {
  switch (c) {
    case ErrorClass::retry: return "retry";
    case ErrorClass::refresh: return "refresh";
    case ErrorClass::fatal: return "fatal";
  }
  return "unknown";
}

bool group_not_found(const Error& e) { return e.code == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND; }

ErrorClass classify(int code) {
  switch (static_cast<rd_kafka_resp_err_t>(code)) {
    // Routing went stale: the client must learn the new leader/coordinator.
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
      return ErrorClass::refresh;

    // Nothing changes by retrying: credentials, permissions, configuration
    // or protocol support.
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
      return ErrorClass::fatal;

    // Timeouts, transport errors, brokers down, coordinators loading, and
    // anything unknown: the next attempt may well succeed.
    default:
      return ErrorClass::retry;
  }
}

Error Error::from_code(int code, std::string context) {
  auto err = static_cast<rd_kafka_resp_err_t>(code);
  std::string msg = std::move(context);
  if (!msg.empty()) msg += ": ";
  msg += rd_kafka_err2str(err);
  return Error{.code = code, .message = std::move(msg), .cls = classify(code)};
}

Error Error::timed_out(std::string context) {
  return from_code(RD_KAFKA_RESP_ERR__TIMED_OUT, std::move(context));
}

std::string Error::to_string() const {
  return message + " (" + rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(code)) + ", " +
         kafka::to_string(cls) + ")";
}

}  // namespace klag::kafka
