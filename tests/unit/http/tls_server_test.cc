// The server over TLS with a real OpenSSL client: large bodies written in
// pieces (the same-buffer retry after WANT_WRITE), pipelining, a slow
// reader, a client that half-closes without close_notify, and plain HTTP
// sent to the TLS port. Certificates are made with the openssl tool.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "server_fixture.h"

namespace klag::http {
namespace {

using namespace std::chrono_literals;
using testing::ServerTest;
using testing::TestClient;
using testing::local_options;

class TlsServerTest : public ServerTest {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("klag-tls-" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
    const std::string command =
        "cd '" + dir_->string() +
        "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
        " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem"
        " >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    std::ofstream(*dir_ / "web.yml") << "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n";
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  void SetUp() override {
    ServerOptions options = local_options();
    options.web_config_file = (*dir_ / "web.yml").string();
    start(options);
    ctx_ = SSL_CTX_new(TLS_client_method());
    ASSERT_NE(ctx_, nullptr);
    ASSERT_EQ(SSL_CTX_load_verify_locations(ctx_, (*dir_ / "cert.pem").c_str(), nullptr), 1);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
  void TearDown() override { SSL_CTX_free(ctx_); }

  // A TLS session over a fresh connection; null when the handshake failed.
  struct Session {
    std::unique_ptr<TestClient> tcp;
    SSL* ssl = nullptr;
    ~Session() {
      if (ssl != nullptr) SSL_free(ssl);
    }
    bool write(std::string_view data) {
      size_t written = 0;
      return SSL_write_ex(ssl, data.data(), data.size(), &written) == 1 && written == data.size();
    }
    // Reads one response (Content-Length framed); `chunk` bytes per read,
    // with an optional pause between reads (a slow reader).
    std::optional<testing::HttpReply> read_reply(size_t chunk = 16384, std::chrono::microseconds pause = {}) {
      while (buffer.find("\r\n\r\n") == std::string::npos) {
        if (!fill(chunk, pause)) return std::nullopt;
      }
      const size_t end = buffer.find("\r\n\r\n");
      testing::HttpReply reply;
      reply.head = buffer.substr(0, end + 4);
      reply.status = std::stoi(reply.head.substr(9, 3));
      size_t length = 0;
      if (auto at = reply.head.find("Content-Length: "); at != std::string::npos) {
        length = std::stoull(reply.head.substr(at + 16));
      }
      buffer.erase(0, end + 4);
      while (buffer.size() < length) {
        if (!fill(chunk, pause)) return std::nullopt;
      }
      reply.body = buffer.substr(0, length);
      buffer.erase(0, length);
      return reply;
    }
    bool fill(size_t chunk, std::chrono::microseconds pause) {
      std::string piece(chunk, '\0');
      size_t n = 0;
      if (SSL_read_ex(ssl, piece.data(), piece.size(), &n) != 1) return false;
      buffer.append(piece.data(), n);
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
      return true;
    }
    std::string buffer;
  };

  std::unique_ptr<Session> open() {
    auto session = std::make_unique<Session>();
    session->tcp = connect();
    session->ssl = SSL_new(ctx_);
    SSL_set_fd(session->ssl, session->tcp->fd());
    SSL_set_tlsext_host_name(session->ssl, "127.0.0.1");
    if (SSL_connect(session->ssl) != 1) {
      ERR_clear_error();
      return nullptr;
    }
    return session;
  }

  static std::filesystem::path* dir_;
  SSL_CTX* ctx_ = nullptr;
};

std::filesystem::path* TlsServerTest::dir_ = nullptr;

TEST_F(TlsServerTest, PipelinedLargeBodiesArriveIntactForASlowReader) {
  ASSERT_TRUE(server_->tls());
  auto session = open();
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(session->write("GET /big HTTP/1.1\r\n\r\nGET /small HTTP/1.1\r\n\r\nGET /big HTTP/1.1\r\n\r\n"
                             "GET /stream HTTP/1.1\r\n\r\n"));
  // The first body is read in small pieces with pauses, so the server's
  // writes hit a full socket again and again and must be retried; the
  // streamed one too (a retry must pass the same piece again).
  auto first = session->read_reply(1500, 50us);
  auto second = session->read_reply();
  auto third = session->read_reply();
  auto streamed = session->read_reply(1500, 50us);
  ASSERT_TRUE(first && second && third && streamed);
  EXPECT_TRUE(streamed->body == *testing::big_body()) << "streamed 8 MiB body differs";
  EXPECT_EQ(first->status, 200);
  EXPECT_TRUE(first->body == *testing::big_body()) << "first 8 MiB body differs";
  EXPECT_EQ(second->body, "/small");
  EXPECT_TRUE(third->body == *testing::big_body()) << "second 8 MiB body differs";
}

TEST_F(TlsServerTest, RequestBeforeAHalfCloseWithoutCloseNotifyIsAnswered) {
  auto session = open();
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(session->write("GET /last HTTP/1.1\r\nConnection: close\r\n\r\n"));
  // TCP FIN without TLS close_notify, as many clients end a connection.
  ASSERT_EQ(::shutdown(session->tcp->fd(), SHUT_WR), 0);
  auto reply = session->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "/last");
}

TEST_F(TlsServerTest, PlainHttpOnTheTlsPortGetsA400InPlainText) {
  auto client = connect();
  ASSERT_TRUE(client->send_all("GET /metrics HTTP/1.1\r\n\r\n"));
  auto reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_THAT(reply->body, ::testing::HasSubstr("HTTP request to an HTTPS server"));
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(TlsServerTest, AFailedHandshakeDoesNotDisturbOthers) {
  // A client that trusts another CA gives up in the handshake.
  SSL_CTX* other = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(other, SSL_VERIFY_PEER, nullptr);  // no CA loaded: rejects our certificate
  auto tcp = connect();
  SSL* ssl = SSL_new(other);
  SSL_set_fd(ssl, tcp->fd());
  EXPECT_NE(SSL_connect(ssl), 1);
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(other);
  tcp.reset();
  // Random bytes after a handshake record header: the server's TLS fails.
  auto junk = connect();
  std::string noise("\x16\x03\x01\x00\x40", 5);
  std::mt19937 rng(7);
  for (int i = 0; i < 64; ++i) noise.push_back(static_cast<char>(rng()));
  ASSERT_TRUE(junk->send_all(noise));
  bool closed = false;  // a TLS alert may come first
  for (int i = 0; i < 5 && !closed; ++i) closed = junk->closed_within(2s);
  EXPECT_TRUE(closed);
  auto session = open();
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(session->write("GET /fine HTTP/1.1\r\n\r\n"));
  auto reply = session->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "/fine");
}

}  // namespace
}  // namespace klag::http
