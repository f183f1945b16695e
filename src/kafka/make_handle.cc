#include "kafka/make_handle.h"

#include <spdlog/spdlog.h>

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

  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr);
  if (!rk) {
    return std::unexpected(Error::from_code(RD_KAFKA_RESP_ERR__INVALID_ARG, "cluster " + options.cluster_name + ": " + errstr));
  }
  (void)conf.release();  // rd_kafka_new took ownership
  return KafkaPtr(rk);
}

}  // namespace klag::kafka
