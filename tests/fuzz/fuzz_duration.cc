// libFuzzer target: duration parsing ("500ms", "1m30s"). Any bytes give a
// positive duration or an error message.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto d = klag::config::parse_duration(text);
  if (d && d->count() < 0) std::abort();
  if (!d && d.error().empty()) std::abort();
  return 0;
}
