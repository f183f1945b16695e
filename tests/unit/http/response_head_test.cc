#include "http/response_head.h"

#include <gtest/gtest.h>

namespace klag::http::detail {
namespace {

TEST(ResponseText, BuildsSharedBody) {
  Response response = Response::text(404, "not found\n");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "text/plain; charset=utf-8");
  ASSERT_TRUE(response.body);
  EXPECT_EQ(*response.body, "not found\n");
  EXPECT_EQ(Response::text(200, "{}", "application/json").content_type, "application/json");
}

TEST(RenderHead, ExactBytes) {
  Response response = Response::text(200, "hello");
  response.headers = {{"Content-Encoding", "gzip"}, {"Vary", "Accept-Encoding"}};
  EXPECT_EQ(render_head(response, {.content_length = 5}),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 5\r\n"
            "Content-Encoding: gzip\r\n"
            "Vary: Accept-Encoding\r\n"
            "\r\n");
}

TEST(RenderHead, ConnectionHeaders) {
  Response response = Response::text(503, "");
  EXPECT_EQ(render_head(response, {.content_length = 0, .close = true}),
            "HTTP/1.1 503 Service Unavailable\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 0\r\n"
            "Connection: close\r\n"
            "\r\n");
  EXPECT_NE(render_head(response, {.announce_keep_alive = true}).find("Connection: keep-alive\r\n"),
            std::string::npos);
}

TEST(RenderHead, DropsFramingAndInjectedHeaders) {
  Response response = Response::text(200, "x");
  response.headers = {{"content-length", "7"}, {"Transfer-Encoding", "chunked"},
                      {"CONNECTION", "upgrade"}, {"Content-Type", "text/html"},
                      {"X-Bad", "a\r\nSet-Cookie: x"}, {"X\nBad", "b"}, {"", "c"},
                      {"X-Good", "ok"}};
  EXPECT_EQ(render_head(response, {.content_length = 1}),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 1\r\n"
            "X-Good: ok\r\n"
            "\r\n");
}

TEST(RenderHead, InvalidStatusBecomes500) {
  Response response = Response::text(42, "x");
  EXPECT_EQ(render_head(response, {.content_length = 1}).substr(0, 36),
            "HTTP/1.1 500 Internal Server Error\r\n");
}

TEST(ReasonPhrase, KnownAndUnknown) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(405), "Method Not Allowed");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(299), "Unknown");
  EXPECT_TRUE(status_forbids_body(204));
  EXPECT_TRUE(status_forbids_body(304));
  EXPECT_FALSE(status_forbids_body(200));
}

}  // namespace
}  // namespace klag::http::detail
