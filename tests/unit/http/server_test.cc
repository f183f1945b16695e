#include "http/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "server_fixture.h"

namespace klag::http {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::ServerTest;
using testing::TestClient;
using testing::big_body;
using testing::has_ipv6_loopback;
using testing::local_options;

TEST_F(ServerTest, GetReturnsHandlerResponse) {
  start();
  auto client = connect();
  ASSERT_TRUE(client->send_all("GET /hello?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_THAT(reply->head, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(reply->body, "/hello");
  EXPECT_EQ(reply->header("content-length"), "6");
  EXPECT_EQ(reply->header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(reply->header("x-query"), "x=1");
  EXPECT_FALSE(reply->headers.contains("connection"));
  EXPECT_EQ(calls_, 1);
}

TEST_F(ServerTest, HeadSendsHeadersOnly) {
  start();
  auto client = connect();
  ASSERT_TRUE(client->send_all("HEAD /abc HTTP/1.1\r\n\r\n"));
  auto reply = client->read_reply(/*head_request=*/true);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("content-length"), "4");
  // No body bytes follow: the next response starts right after the head.
  ASSERT_TRUE(client->send_all("GET /next HTTP/1.1\r\n\r\n"));
  auto next = client->read_reply();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, "/next");
}

TEST_F(ServerTest, OtherMethodsGet405WithoutCallingHandler) {
  start();
  auto client = connect();
  ASSERT_TRUE(client->send_all("POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 405);
  EXPECT_THAT(reply->head, ::testing::StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_EQ(reply->header("allow"), "GET, HEAD");
  EXPECT_EQ(calls_, 0);
  // The body was skipped and the connection stays usable.
  ASSERT_TRUE(client->send_all("GET /after HTTP/1.1\r\n\r\n"));
  auto after = client->read_reply();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "/after");
}

TEST_F(ServerTest, GarbageGets400AndClose) {
  start();
  auto client = connect();
  ASSERT_TRUE(client->send_all("garbage\r\n\r\n"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(reply->header("connection"), "close");
  EXPECT_TRUE(client->closed_within(2s));
  EXPECT_EQ(calls_, 0);
}

TEST_F(ServerTest, HugeHeaderGets431AndClose) {
  start();
  auto client = connect();
  std::string request = "GET / HTTP/1.1\r\nX-Huge: " + std::string(200 * 1024, 'h') + "\r\n\r\n";
  // The server answers before reading everything, so our send may fail late.
  client->send_all(request);
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 431);
  EXPECT_EQ(reply->header("connection"), "close");
  EXPECT_TRUE(client->closed_within(2s));
}

TEST_F(ServerTest, Http2Gets505) {
  start();
  for (std::string_view request : {"GET / HTTP/2.0\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}) {
    auto client = connect();
    ASSERT_TRUE(client->send_all(request));
    auto reply = client->read_reply();
    ASSERT_TRUE(reply) << request;
    EXPECT_EQ(reply->status, 505);
    EXPECT_THAT(reply->head, ::testing::StartsWith("HTTP/1.1 505 HTTP Version Not Supported\r\n"));
    EXPECT_TRUE(client->closed_within(2s));
  }
}

TEST_F(ServerTest, KeepAliveServesTwoRequests) {
  start();
  auto client = connect();
  for (std::string path : {"/one", "/two"}) {
    ASSERT_TRUE(client->send_all("GET " + path + " HTTP/1.1\r\n\r\n"));
    auto reply = client->read_reply();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, path);
  }
  EXPECT_EQ(calls_, 2);
}

TEST_F(ServerTest, Http10KeepAliveIsAnnounced) {
  start();
  auto client = connect();
  ASSERT_TRUE(client->send_all("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header("connection"), "keep-alive");
  ASSERT_TRUE(client->send_all("GET /b HTTP/1.0\r\n\r\n"));
  auto last = client->read_reply();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, "/b");
  EXPECT_EQ(last->header("connection"), "close");
  EXPECT_TRUE(client->closed_within(2s));
}

TEST_F(ServerTest, PipelinedRequestsAnsweredInOrder) {
  start();
  auto client = connect();
  std::string batch;
  for (int i = 0; i < 20; ++i) batch += "GET /p" + std::to_string(i) + " HTTP/1.1\r\n\r\n";
  batch += "HEAD /head HTTP/1.1\r\n\r\nGET /last HTTP/1.1\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(client->send_all(batch));
  for (int i = 0; i < 20; ++i) {
    auto reply = client->read_reply();
    ASSERT_TRUE(reply) << i;
    EXPECT_EQ(reply->body, "/p" + std::to_string(i));
  }
  auto head = client->read_reply(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("content-length"), "5");
  auto last = client->read_reply();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, "/last");
  EXPECT_TRUE(client->closed_within(2s));
}

TEST_F(ServerTest, ConnectionCloseClosesAfterResponse) {
  start();
  auto client = connect();
  ASSERT_TRUE(client->send_all("GET /bye HTTP/1.1\r\nConnection: close\r\n\r\n"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "/bye");
  EXPECT_EQ(reply->header("connection"), "close");
  EXPECT_TRUE(client->closed_within(2s));
  EXPECT_TRUE(client->pending().empty());
}

TEST_F(ServerTest, LargeSharedBodyArrivesIntact) {
  start();
  auto client = connect();
  ASSERT_TRUE(client->send_all("GET /big HTTP/1.1\r\n\r\nGET /big HTTP/1.1\r\n\r\n"));
  for (int i = 0; i < 2; ++i) {
    auto reply = client->read_reply();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->header("content-length"), std::to_string(big_body()->size()));
    EXPECT_EQ(reply->header("content-type"), "application/octet-stream");
    ASSERT_EQ(reply->body.size(), big_body()->size());
    EXPECT_TRUE(reply->body == *big_body());
  }
}

TEST_F(ServerTest, StreamedBodyArrivesIntact) {
  start();
  auto client = connect();
  ASSERT_TRUE(client->send_all("GET /stream HTTP/1.1\r\n\r\nHEAD /stream HTTP/1.1\r\n\r\nGET /stream HTTP/1.1\r\n\r\n"));
  for (int i = 0; i < 3; ++i) {
    auto reply = client->read_reply(/*head_request=*/i == 1);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->header("content-length"), std::to_string(big_body()->size()));
    if (i == 1) {
      EXPECT_TRUE(reply->body.empty());
      continue;
    }
    ASSERT_EQ(reply->body.size(), big_body()->size());
    EXPECT_TRUE(reply->body == *big_body());
  }
}

TEST_F(ServerTest, StreamsInterleaveWithOtherClients) {
  // A client that does not read its streamed body holds no one else up.
  start();
  auto slow = connect();
  ASSERT_TRUE(slow->send_all("GET /stream HTTP/1.1\r\n\r\n"));
  auto quick = connect();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(quick->send_all("GET /quick HTTP/1.1\r\n\r\n"));
    auto reply = quick->read_reply();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body, "/quick");
  }
  auto reply = slow->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_TRUE(reply->body == *big_body());
}

TEST_F(ServerTest, StreamThatStopsEarlyClosesTheConnection) {
  // The head promised 8 MiB; a body cut short must not look complete, and
  // the server goes on serving.
  start();
  for (const char* path : {"/stream-short", "/stream-throw"}) {
    auto client = connect();
    ASSERT_TRUE(client->send_all(std::string("GET ") + path + " HTTP/1.1\r\n\r\n"));
    EXPECT_FALSE(client->read_reply()) << path;
    EXPECT_GE(client->pending().size(), 1024u * 1024u) << path;
    EXPECT_LT(client->pending().size(), big_body()->size()) << path;
  }
  auto client = connect();
  ASSERT_TRUE(client->send_all("GET /after HTTP/1.1\r\n\r\n"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "/after");
}

TEST_F(ServerTest, FiftyConcurrentClientsAllAnswered) {
  start();
  constexpr int kClients = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([this, i, &ok] {
      TestClient client("127.0.0.1", server_->port());
      std::string path = "/client/" + std::to_string(i);
      if (!client.send_all("GET " + path + " HTTP/1.1\r\n\r\n")) return;
      auto reply = client.read_reply();
      if (reply && reply->status == 200 && reply->body == path) ++ok;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok, kClients);
}

TEST_F(ServerTest, IdleConnectionIsClosed) {
  ServerOptions options = local_options();
  options.idle_timeout = 300ms;
  start(options);
  auto client = connect();
  auto began = std::chrono::steady_clock::now();
  EXPECT_TRUE(client->closed_within(3s));
  auto elapsed = std::chrono::steady_clock::now() - began;
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 2s);
}

TEST_F(ServerTest, SlowlorisRequestIsClosed) {
  ServerOptions options = local_options();
  options.idle_timeout = 300ms;
  start(options);
  auto client = connect();
  auto began = std::chrono::steady_clock::now();
  // One byte every 50 ms keeps the socket busy but never completes the head.
  std::string trickle = "GET / HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  bool closed = false;
  for (char c : trickle) {
    if (!client->send_all(std::string_view(&c, 1))) break;
    if (client->closed_within(50ms)) {
      closed = true;
      break;
    }
  }
  EXPECT_TRUE(closed || client->closed_within(2s));
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
  EXPECT_EQ(calls_, 0);
}

TEST_F(ServerTest, ListensOnIpv6Loopback) {
  if (!has_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback on this machine";
  ServerOptions options = local_options();
  options.host = "::1";
  start(options);
  auto client = connect("::1");
  ASSERT_TRUE(client->send_all("GET /v6 HTTP/1.1\r\n\r\n"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "/v6");
}

TEST_F(ServerTest, DualStackWildcardAcceptsIpv4) {
  if (!has_ipv6_loopback()) GTEST_SKIP() << "no IPv6 on this machine";
  ServerOptions options = local_options();
  options.host = "::";
  start(options);
  auto client = connect("127.0.0.1");
  ASSERT_TRUE(client->send_all("GET /v4 HTTP/1.1\r\n\r\n"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "/v4");
}

TEST_F(ServerTest, StopIsQuickWithOpenConnectionsAndIdempotent) {
  start();
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 10; ++i) clients.push_back(connect());
  ASSERT_TRUE(clients[0]->send_all("GET /partial HTTP/1.1\r\nHo"));
  ASSERT_TRUE(clients[1]->send_all("GET /done HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(clients[1]->read_reply());
  auto began = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 1s);
  for (auto& client : clients) EXPECT_TRUE(client->closed_within(1s));
  server_->stop();
  server_.reset();  // destructor after stop is fine too
}

TEST_F(ServerTest, StopBeforeStartIsHarmless) {
  Server server(local_options(), [](const Request&) { return Response::text(200, "x"); });
  server.stop();
  server.stop();
}

TEST_F(ServerTest, PortInUseIsReported) {
  start();
  ServerOptions options = local_options();
  options.port = server_->port();
  Server second(options, [](const Request&) { return Response::text(200, "x"); });
  auto started = second.start();
  ASSERT_FALSE(started);
  EXPECT_THAT(started.error(), HasSubstr("127.0.0.1:" + std::to_string(server_->port())));
  EXPECT_THAT(started.error(), HasSubstr("Address already in use"));
}

TEST_F(ServerTest, InvalidHostIsReported) {
  ServerOptions options = local_options();
  options.host = "not-an-ip";
  Server server(options, [](const Request&) { return Response::text(200, "x"); });
  auto started = server.start();
  ASSERT_FALSE(started);
  EXPECT_THAT(started.error(), HasSubstr("not-an-ip:0"));
}

TEST_F(ServerTest, HandlerExceptionGives500) {
  start();
  auto client = connect();
  ASSERT_TRUE(client->send_all("GET /throw HTTP/1.1\r\n\r\nGET /fine HTTP/1.1\r\n\r\n"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  EXPECT_THAT(reply->head, ::testing::StartsWith("HTTP/1.1 500 Internal Server Error\r\n"));
  auto next = client->read_reply();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "/fine");
}

}  // namespace
}  // namespace klag::http
