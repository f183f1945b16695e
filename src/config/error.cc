#include "config/config.h"

namespace klag::config {
namespace {

std::string describe(std::string_view kind, const std::string& key, int line, const std::string& message) {
  std::string out(kind);
  if (!key.empty()) out += " at " + key;
  if (line > 0) out += " (line " + std::to_string(line) + ")";
  return out + ": " + message;
}

}  // namespace

std::string ConfigError::to_string() const {
  std::string out = describe("config error", key, line, message);
  for (const ConfigError& other : more) out += "\n" + other.to_string();
  return out;
}

std::string ConfigWarning::to_string() const { return describe("config warning", key, line, message); }

}  // namespace klag::config
