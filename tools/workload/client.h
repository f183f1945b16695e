// Creating librdkafka handles from the command-line connection options, and
// turning librdkafka errors into exceptions that main() reports.
#pragma once

#include "rdkafka_raii.h"

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace klag::workload {

// Any failure a command reports: main() prints it and exits non-zero.
class WorkloadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Settings = std::vector<std::pair<std::string, std::string>>;

// Options every subcommand takes.
struct ConnectOptions {
  std::string bootstrap;
  // -X key=value: extra librdkafka settings, e.g. for SASL or TLS brokers.
  std::vector<std::string> client_config;
  // Drop librdkafka's own log lines (ping polls brokers that may be down).
  bool quiet = false;
};

// Splits "key=value"; throws on a missing '='.
std::pair<std::string, std::string> split_key_value(const std::string& kv);

// Builds a handle: bootstrap, then `settings`, then the user's -X settings
// (so the user can override anything), then `customize` for callbacks.
KafkaPtr make_client(rd_kafka_type_t type, const ConnectOptions& connect, const Settings& settings,
                     const std::function<void(rd_kafka_conf_t*)>& customize = {});

// Throws WorkloadError("<what>: <librdkafka message>") unless err is 0.
void check(rd_kafka_resp_err_t err, const std::string& what);
// Same for the rd_kafka_error_t objects of the transactional API (takes ownership).
void check(rd_kafka_error_t* error, const std::string& what);

int timeout_ms(std::chrono::milliseconds d);

}  // namespace klag::workload
