// libFuzzer target: the config loader with environment substitution. Any
// bytes give either a Config or a ConfigError with a message, never a
// crash, hang or sanitizer report.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Variables set: names starting with 'K' (the value includes characters
  // that need TOML escaping), unset: everything else.
  const klag::config::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (!name.empty() && name[0] == 'K') return std::string("v\"a\\l\nue-") + name;
    return std::nullopt;
  };
  auto parsed = klag::config::parse(text, env, "fuzz");
  if (!parsed) {
    if (parsed.error().message.empty()) std::abort();  // every error says what is wrong
    (void)parsed.error().to_string();
  } else if (parsed->clusters.empty()) {
    std::abort();  // a valid config has at least one cluster
  }
  (void)klag::config::substitute_env(text, env);
  return 0;
}
