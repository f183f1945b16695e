// libFuzzer target: /api/v1/groups with arbitrary bytes as cluster, group,
// topic and member names (they come from Kafka). The answer is always valid
// JSON (invalid UTF-8 replaced), and the web page only ever inserts it as
// text.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "lag/model.h"
#include "metrics/api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const size_t a = bytes.size() / 3, b = 2 * bytes.size() / 3;
  klag::collect::ClusterStatus c;
  c.name = bytes.substr(0, a);
  c.last_error = bytes;
  auto lag = std::make_shared<klag::lag::ClusterLag>();
  lag->groups.push_back({.group = bytes.substr(a, b - a), .state = bytes, .has_lag = true});
  lag->partition_lags.push_back({.group = bytes.substr(a, b - a), .topic = bytes.substr(b), .lag = 1,
                                 .member_host = bytes, .consumer_id = bytes, .client_id = bytes});
  c.lag = lag;
  const std::string json = klag::metrics::render_groups_json({c}, {});
  const auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || parsed["clusters"][0]["groups"].size() != 1) std::abort();
  return 0;
}
