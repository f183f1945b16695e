#include "kafka/make_handle.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <mutex>
#include <set>

namespace klag::kafka {
namespace {

// librdkafka logs connection failures on every retry; the collector logs
// cluster state changes once, so these go to debug.
void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  const char* name = rd_kafka_name(rk);
  if (level <= 2) {
    spdlog::warn("librdkafka {} {}: {}", name, fac, buf);
  } else {
    spdlog::debug("librdkafka {} {}: {}", name, fac, buf);
  }
}

// The cluster name each handle's callbacks report, interned for the life
// of the process (a handful of names), so the conf opaque never dangles.
const std::string* intern_cluster_name(const std::string& name) {
  static std::mutex mu;
  static std::set<std::string> names;
  std::lock_guard lock(mu);
  return &*names.insert(name).first;
}

// Errors no retry fixes: a wrong password, a certificate the broker rejects.
// librdkafka reports them here, on every reconnect attempt, while the
// request that needed the connection just times out; so they are logged as
// warnings naming the cluster, once per cluster and error per 5 minutes.
// The reason strings carry the mechanism and the broker's message, never
// the credentials.
bool needs_operator(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
         err == RD_KAFKA_RESP_ERR__SSL || err == RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM ||
         err == RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE;
}

void error_cb(rd_kafka_t*, int err, const char* reason, void* opaque) {
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  const std::string& cluster = opaque ? *static_cast<const std::string*>(opaque) : std::string();
  if (!needs_operator(code)) {
    spdlog::debug("cluster {}: librdkafka error: {}", cluster, reason);
    return;
  }
  static std::mutex mu;
  static std::map<std::pair<std::string, int>, std::chrono::steady_clock::time_point> last_logged;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu);
    auto [it, fresh] = last_logged.try_emplace({cluster, err}, now);
    if (!fresh && now - it->second < std::chrono::minutes(5)) {
      spdlog::debug("cluster {}: {}: {}", cluster, rd_kafka_err2name(code), reason);
      return;
    }
    it->second = now;
  }
  spdlog::warn("cluster {}: cannot connect: {} ({}); check the credentials and TLS settings in its "
               "consumer_properties",
               cluster, reason, rd_kafka_err2name(code));
}

}  // namespace

std::expected<KafkaPtr, Error> make_consumer_handle(const ClientOptions& options,
                                                    const std::vector<std::pair<std::string, std::string>>& overrides,
                                                    const std::string& client_id) {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  auto set = [&](const std::string& k, const std::string& v) -> std::expected<void, Error> {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      return std::unexpected(Error::from_code(RD_KAFKA_RESP_ERR__INVALID_ARG,
                                              "cluster " + options.cluster_name + ": property \"" + k + "\": " + errstr));
    }
    return {};
  };
  const std::pair<const char*, const char*> defaults[] = {
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"log.connection.close", "false"},
      {"topic.metadata.refresh.interval.ms", "60000"},
  };
  if (auto r = set("client.id", client_id); !r) return std::unexpected(r.error());
  for (const auto& [k, v] : defaults) {
    if (auto r = set(k, v); !r) return std::unexpected(r.error());
  }
  for (const auto& [k, v] : options.properties) {
    if (auto r = set(k, v); !r) return std::unexpected(r.error());
  }
  for (const auto& [k, v] : overrides) {
    if (auto r = set(k, v); !r) return std::unexpected(r.error());
  }
  if (auto r = set("bootstrap.servers", options.bootstrap_servers); !r) return std::unexpected(r.error());
  rd_kafka_conf_set_log_cb(conf.get(), log_cb);
  rd_kafka_conf_set_error_cb(conf.get(), error_cb);
  rd_kafka_conf_set_opaque(conf.get(), const_cast<std::string*>(intern_cluster_name(options.cluster_name)));

  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr);
  if (!rk) {
    return std::unexpected(Error::from_code(RD_KAFKA_RESP_ERR__INVALID_ARG, "cluster " + options.cluster_name + ": " + errstr));
  }
  (void)conf.release();  // rd_kafka_new took ownership
  return KafkaPtr(rk);
}

}  // namespace klag::kafka
