// libFuzzer target: label escaping in the Prometheus renderer. Any bytes as
// a label value render to one line that unescapes back to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "metrics/render.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  std::string out = "m{l=\"";
  klag::metrics::append_escaped_label_value(out, value);
  out += "\"} 1\n";
  // One line: a raw newline would break the exposition.
  if (out.find('\n') != out.size() - 1) std::abort();
  // Unescape exactly as a Prometheus parser does and compare.
  std::string back;
  size_t i = 5;
  for (; i < out.size() && out[i] != '"'; ++i) {
    if (out[i] != '\\') {
      back += out[i];
      continue;
    }
    if (++i == out.size()) std::abort();
    switch (out[i]) {
      case '\\': back += '\\'; break;
      case '"': back += '"'; break;
      case 'n': back += '\n'; break;
      default: std::abort();  // an escape Prometheus does not know
    }
  }
  if (back != value || out.compare(i, std::string::npos, "\"} 1\n") != 0) std::abort();
  return 0;
}
