// Server behaviour under hostile or unlucky clients: limits, resets,
// random bytes, slow readers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "http/server.h"
#include "server_fixture.h"

namespace klag::http {
namespace {

using namespace std::chrono_literals;
using testing::ServerTest;
using testing::TestClient;
using testing::local_options;

TEST_F(ServerTest, AtTheLimitTheLongestIdleConnectionMakesRoom) {
  ServerOptions options = local_options();
  options.max_connections = 2;
  start(options);
  auto first = connect();
  auto second = connect();
  // Round trips make sure both are accepted (and idle, keep-alive) before
  // the third arrives; the first has waited longest.
  for (auto* client : {first.get(), second.get()}) {
    ASSERT_TRUE(client->send_all("GET / HTTP/1.1\r\n\r\n"));
    ASSERT_TRUE(client->read_reply());
  }
  auto third = connect();
  ASSERT_TRUE(third->send_all("GET /third HTTP/1.1\r\n\r\n"));
  auto reply = third->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "/third");
  EXPECT_TRUE(first->closed_within(2s));
  ASSERT_TRUE(second->send_all("GET /second HTTP/1.1\r\n\r\n"));
  reply = second->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "/second");
}

TEST_F(ServerTest, AtTheLimitWithEveryConnectionBusyNewOnesAreClosed) {
  ServerOptions options = local_options();
  options.max_connections = 2;
  start(options);
  // Two clients fetch 8 MiB and do not read it: their responses stay
  // queued, so neither connection may be taken away. Small receive buffers
  // keep the body from fitting into the kernel's buffers on any host.
  auto first = connect();
  auto second = connect();
  for (auto* client : {first.get(), second.get()}) {
    int small = 4096;
    ::setsockopt(client->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    ASSERT_TRUE(client->send_all("GET /big HTTP/1.1\r\n\r\n"));
  }
  for (int i = 0; i < 100 && calls_.load() < 2; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(calls_.load(), 2);
  auto third = connect();
  EXPECT_TRUE(third->closed_within(2s));
  first.reset();
  // Once a slot frees up, new clients are served again.
  std::optional<testing::HttpReply> reply;
  for (int attempt = 0; attempt < 50 && !reply; ++attempt) {
    TestClient client("127.0.0.1", server_->port());
    if (client.send_all("GET /again HTTP/1.1\r\n\r\n")) reply = client.read_reply();
    if (!reply) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "/again");
}

TEST_F(ServerTest, ClientVanishingMidResponseDoesNotHurtServer) {
  start();
  for (int i = 0; i < 5; ++i) {
    auto client = connect();
    ASSERT_TRUE(client->send_all("GET /big HTTP/1.1\r\n\r\n"));
    // Abort with RST while the 8 MiB body is still being written.
    linger abort{1, 0};
    ::setsockopt(client->fd(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }
  auto client = connect();
  ASSERT_TRUE(client->send_all("GET /alive HTTP/1.1\r\n\r\n"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "/alive");
}

TEST_F(ServerTest, SlowReaderIsClosedAfterIdleTimeout) {
  ServerOptions options = local_options();
  options.idle_timeout = 300ms;
  start(options);
  auto client = connect();
  int small = 4096;
  ::setsockopt(client->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  ASSERT_TRUE(client->send_all("GET /big HTTP/1.1\r\n\r\n"));
  std::this_thread::sleep_for(800ms);  // never read: the server's writes stall
  // Drain what the kernel buffered; the stream must end well short of 8 MiB.
  size_t received = 0;
  char chunk[65536];
  ssize_t n;
  while ((n = ::recv(client->fd(), chunk, sizeof chunk, 0)) > 0) received += static_cast<size_t>(n);
  // Ended by the server (EOF or reset), not by our 5 s receive timeout.
  EXPECT_TRUE(n == 0 || errno == ECONNRESET) << std::strerror(errno);
  EXPECT_LT(received, testing::big_body()->size());
}

TEST_F(ServerTest, HalfClosedClientStillGetsItsAnswer) {
  start();
  auto client = connect();
  ASSERT_TRUE(client->send_all("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"));
  ::shutdown(client->fd(), SHUT_WR);
  auto a = client->read_reply();
  auto b = client->read_reply();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->body, "/a");
  EXPECT_EQ(b->body, "/b");
  EXPECT_TRUE(client->closed_within(2s));
}

TEST_F(ServerTest, NonStandardExceptionGives500) {
  start();
  auto client = connect();
  ASSERT_TRUE(client->send_all("GET /throw-int HTTP/1.1\r\n\r\n"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
}

TEST_F(ServerTest, NoContentHasNoLengthOrBody) {
  start();
  auto client = connect();
  ASSERT_TRUE(client->send_all("GET /no-content HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_THAT(reply->head, ::testing::StartsWith("HTTP/1.1 204 No Content\r\n"));
  EXPECT_FALSE(reply->headers.contains("content-length"));
  EXPECT_FALSE(reply->headers.contains("content-type"));
  auto next = client->read_reply();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "/x");
}

TEST_F(ServerTest, HandlerCannotBreakFraming) {
  start();
  auto client = connect();
  ASSERT_TRUE(client->send_all("GET /framing HTTP/1.1\r\n\r\n"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header("content-length"), "3");
  EXPECT_EQ(reply->body, "abc");
  EXPECT_EQ(reply->header("vary"), "Accept-Encoding");
  EXPECT_FALSE(reply->headers.contains("x-split"));
  EXPECT_FALSE(reply->headers.contains("x-injected"));
  EXPECT_FALSE(reply->headers.contains("connection"));
}

TEST_F(ServerTest, RandomBytesNeverHurtTheServer) {
  ServerOptions options = local_options();
  options.max_header_bytes = 2048;
  start(options);
  std::mt19937 rng(12345);
  const std::string valid = "GET /ok?q=1 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n";
  for (int round = 0; round < 200; ++round) {
    std::string input;
    if (round % 2 == 0) {
      // Mutated valid request.
      input = valid;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) input[rng() % input.size()] = static_cast<char>(rng() % 256);
    } else {
      input.resize(rng() % 4096);
      for (char& c : input) c = static_cast<char>(rng() % 256);
    }
    TestClient client("127.0.0.1", server_->port());
    client.set_timeout(200ms);
    client.send_all(input);
    ::shutdown(client.fd(), SHUT_WR);
    while (client.read_reply()) {
    }
  }
  auto client = connect();
  ASSERT_TRUE(client->send_all(valid));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "/ok");
}

}  // namespace
}  // namespace klag::http
