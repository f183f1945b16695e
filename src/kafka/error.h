// Kafka errors as values, and the one place that decides what to do about
// each librdkafka error code.
#pragma once

#include <string>

namespace klag::kafka {

enum class ErrorClass {
  retry,    // transient (timeout, broker down): try again next time
  refresh,  // stale routing (leader or coordinator moved): refresh metadata, retry
  fatal,    // will not fix itself (auth, config, unsupported): report loudly
};

const char* to_string(ErrorClass c);

// Maps an rd_kafka_resp_err_t value to what the caller should do.
ErrorClass classify(int rd_kafka_resp_err);

struct Error;
// Whether the coordinator said the group does not exist (GROUP_ID_NOT_FOUND).
bool group_not_found(const Error& e);

struct Error {
  int code = 0;         // rd_kafka_resp_err_t
  std::string message;  // librdkafka's text plus our context
  ErrorClass cls = ErrorClass::retry;

  static Error from_code(int code, std::string context);
  static Error timed_out(std::string context);
  std::string to_string() const;  // "<context>: <message> (<ERR_NAME>)"
};

}  // namespace klag::kafka
