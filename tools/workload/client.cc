#include "client.h"

#include <cstdio>

namespace klag::workload {
namespace {

// librdkafka logs from its own threads; one fprintf per line keeps lines whole.
void log_to_stderr(const rd_kafka_t*, int level, const char* facility, const char* message) {
  std::fprintf(stderr, "klag-workload: rdkafka %d %s: %s\n", level, facility, message);
}

void log_nothing(const rd_kafka_t*, int, const char*, const char*) {}

void set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    throw WorkloadError("client setting " + key + ": " + errstr);
  }
}

}  // namespace

std::pair<std::string, std::string> split_key_value(const std::string& kv) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) throw WorkloadError("expected key=value, got '" + kv + "'");
  return {kv.substr(0, eq), kv.substr(eq + 1)};
}

KafkaPtr make_client(rd_kafka_type_t type, const ConnectOptions& connect, const Settings& settings,
                     const std::function<void(rd_kafka_conf_t*)>& customize) {
  ConfPtr conf(rd_kafka_conf_new());
  set(conf.get(), "bootstrap.servers", connect.bootstrap);
  // Warnings and errors only: the tool's own output must stay readable.
  set(conf.get(), "log_level", "4");
  for (const auto& [k, v] : settings) set(conf.get(), k, v);
  for (const auto& kv : connect.client_config) {
    auto [k, v] = split_key_value(kv);
    set(conf.get(), k, v);
  }
  rd_kafka_conf_set_log_cb(conf.get(), connect.quiet ? log_nothing : log_to_stderr);
  if (customize) customize(conf.get());

  char errstr[512];
  // rd_kafka_new takes ownership of conf only on success.
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (rk == nullptr) throw WorkloadError(std::string("creating client: ") + errstr);
  conf.release();
  return KafkaPtr(rk);
}

void check(rd_kafka_resp_err_t err, const std::string& what) {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw WorkloadError(what + ": " + rd_kafka_err2str(err));
}

void check(rd_kafka_error_t* error, const std::string& what) {
  ErrorPtr owned(error);
  if (owned) throw WorkloadError(what + ": " + rd_kafka_error_string(owned.get()));
}

int timeout_ms(std::chrono::milliseconds d) { return static_cast<int>(d.count()); }

}  // namespace klag::workload
