// Serialisation of a Response's status line and headers (internal to the
// http stage). Pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "http/server.h"

namespace klag::http::detail {

// Reason phrase for a status code; "Unknown" for codes we never send.
std::string_view reason_phrase(int status);

// Whether a response with this status carries no body (1xx, 204, 304).
bool status_forbids_body(int status);

struct HeadOptions {
  size_t content_length = 0;
  // Adds "Connection: close"; the connection is closed after this response.
  bool close = false;
  // Adds "Connection: keep-alive", which HTTP/1.0 clients need to keep the
  // connection open.
  bool announce_keep_alive = false;
};

// "HTTP/1.1 200 OK\r\n...\r\n\r\n". Framing headers (Content-Length,
// Connection, Transfer-Encoding) from response.headers are dropped because
// the server owns framing, and so is any header containing CR or LF.
std::string render_head(const Response& response, const HeadOptions& options);

}  // namespace klag::http::detail
