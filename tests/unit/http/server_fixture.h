// Shared fixture for the server tests: a Server on 127.0.0.1:<ephemeral>
// whose handler echoes the request path, plus a few special paths
// (/big: 8 MiB shared body, /stream: the same made in uneven pieces,
// /stream-short and /stream-throw: a stream that stops after 1 MiB, /throw and /throw-int: handler throws,
// /no-content: 204, /framing: handler tries to set framing headers). The handler runs on
// the server's loop thread; everything else on the test thread.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

#include "http/server.h"
#include "test_client.h"

namespace klag::http::testing {

inline const std::shared_ptr<const std::string>& big_body() {
  static const auto body = [] {
    auto text = std::make_shared<std::string>(8 * 1024 * 1024, '\0');
    // A pattern that is not periodic in 4 KiB, so misplaced chunks show.
    for (size_t i = 0; i < text->size(); ++i) {
      (*text)[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    }
    return std::shared_ptr<const std::string>(std::move(text));
  }();
  return body;
}

// big_body() handed out in pieces of uneven sizes; with `stop_after`, the
// stream ends early (or throws) once it has given that many bytes.
class PieceStream final : public BodyStream {
 public:
  enum class Stop { none, end, raise };
  explicit PieceStream(Stop stop = Stop::none, size_t stop_after = 0) : stop_(stop), stop_after_(stop_after) {}
  size_t size() const override { return big_body()->size(); }
  std::string_view next() override {
    static constexpr size_t kSizes[] = {1, 4093, 32768, 70001, 7, 65536};
    if (stop_ != Stop::none && offset_ >= stop_after_) {
      if (stop_ == Stop::raise) throw std::runtime_error("stream exploded");
      return {};
    }
    const std::string& body = *big_body();
    if (offset_ >= body.size()) return {};
    // Each piece lives in the stream's own buffer, reused: the server must
    // be done with one before it asks for the next.
    piece_.assign(body, offset_, std::min(kSizes[calls_++ % std::size(kSizes)], body.size() - offset_));
    offset_ += piece_.size();
    return piece_;
  }

 private:
  Stop stop_;
  size_t stop_after_;
  size_t offset_ = 0;
  size_t calls_ = 0;
  std::string piece_;
};

inline bool has_ipv6_loopback() {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

inline ServerOptions local_options() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  return options;
}

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = local_options()) {
    server_ = std::make_unique<Server>(options, [this](const Request& r) { return handle(r); });
    auto started = server_->start();
    ASSERT_TRUE(started) << started.error();
    ASSERT_NE(server_->port(), 0);
  }

  Response handle(const Request& request) {
    ++calls_;
    if (request.path == "/big") {
      Response response;
      response.content_type = "application/octet-stream";
      response.body = big_body();
      return response;
    }
    if (request.path.starts_with("/stream")) {
      Response response;
      response.content_type = "application/octet-stream";
      const auto stop = request.path == "/stream-short"   ? PieceStream::Stop::end
                        : request.path == "/stream-throw" ? PieceStream::Stop::raise
                                                          : PieceStream::Stop::none;
      response.stream = std::make_shared<PieceStream>(stop, 1024 * 1024);
      return response;
    }
    if (request.path == "/throw") throw std::runtime_error("handler exploded");
    if (request.path == "/throw-int") throw 42;
    if (request.path == "/no-content") return Response{.status = 204, .content_type = ""};
    if (request.path == "/framing") {
      // Handler-supplied framing headers must not reach the wire.
      Response response = Response::text(200, "abc");
      response.headers = {{"Content-Length", "999"}, {"Connection", "keep-alive"},
                          {"X-Split", "a\r\nX-Injected: 1"}, {"Vary", "Accept-Encoding"}};
      return response;
    }
    Response response = Response::text(200, request.path);
    response.headers.emplace_back("X-Query", request.query);
    return response;
  }

  std::unique_ptr<TestClient> connect(const std::string& host = "127.0.0.1") {
    auto client = std::make_unique<TestClient>(host, server_->port());
    EXPECT_TRUE(client->connected());
    return client;
  }

  std::unique_ptr<Server> server_;
  std::atomic<int> calls_{0};
};

}  // namespace klag::http::testing
