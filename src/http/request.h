// HTTP/1.1 request parsing: a pure function over bytes, so it is unit-tested
// and fuzzed without sockets.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace klag::http {

struct Request {
  std::string method;   // "GET"
  std::string target;   // raw request target, "/metrics?x=1"
  std::string path;     // "/metrics" (target without the query)
  std::string query;    // "x=1"
  int version_minor = 1;  // HTTP/1.<minor>
  // Header names lower-cased, values trimmed, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;

  // First header with this (lower-case) name.
  std::optional<std::string_view> header(std::string_view lower_name) const;
  bool keep_alive() const;  // HTTP/1.1 default on, "Connection: close" off
  bool accepts_gzip() const;  // Accept-Encoding lists gzip with q > 0
};

enum class ParseStatus {
  complete,    // a full request (head; GET/HEAD carry no body) was parsed
  incomplete,  // need more bytes
  bad_request,  // malformed: answer 400 and close
  too_large,    // head exceeds the limit: answer 431 and close
  unsupported_version,  // not HTTP/1.0 or 1.1: answer 505 and close
};

struct ParseResult {
  ParseStatus status = ParseStatus::incomplete;
  Request request;
  // Bytes of `input` consumed by this request (valid when complete), so
  // pipelined requests can follow.
  size_t consumed = 0;
};

// Parses one request head from the start of `input`. Requests with a body
// (Content-Length > 0 or Transfer-Encoding) are accepted and the body is
// skipped when fully present; a body over max_head_bytes is too_large.
ParseResult parse_request(std::string_view input, size_t max_head_bytes);

}  // namespace klag::http
