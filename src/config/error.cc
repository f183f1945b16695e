#include "config/config.h"

namespace klag::config {

std::string ConfigError::to_string() const {
  std::string out = "config error";
  if (!key.empty()) out += " at " + key;
  if (line > 0) out += " (line " + std::to_string(line) + ")";
  return out + ": " + message;
}

}  // namespace klag::config
