// libFuzzer target: the HTTP request parser (our code: src/http/request.cc).
// Any bytes give a status; a complete request never claims more bytes than
// it was given, a prefix of a complete request is never "complete" with
// a different length, and a strict prefix is never rejected.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (size_t limit : {size_t{64}, size_t{8192}}) {
    const auto r = klag::http::parse_request(input, limit);
    if (r.status != klag::http::ParseStatus::complete) continue;
    if (r.consumed == 0 || r.consumed > input.size()) std::abort();
    // The path is origin-form ("/..."), "*", or empty (an absolute-form
    // target with only a query, "http://h?x"): never a relative path.
    if (!r.request.path.empty() && r.request.path.front() != '/' && r.request.path != "*") std::abort();
    // Parsing just the consumed bytes gives the same request.
    const auto again = klag::http::parse_request(input.substr(0, r.consumed), limit);
    if (again.status != klag::http::ParseStatus::complete || again.consumed != r.consumed ||
        again.request.target != r.request.target) {
      std::abort();
    }
    // Every strict prefix of it is still only incomplete: the parser may
    // reject early, but never a request that would have become valid.
    for (size_t cut : {r.consumed / 2, r.consumed - 1}) {
      if (klag::http::parse_request(input.substr(0, cut), limit).status != klag::http::ParseStatus::incomplete) {
        std::abort();
      }
    }
    (void)r.request.keep_alive();
    (void)r.request.accepts_gzip();
  }
  return 0;
}
