// Basic auth: header parsing, bcrypt, the off-loop authenticator, and the
// server enforcing it on every request.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "http/basic_auth.h"
#include "server_fixture.h"

namespace klag::http {
namespace {

using namespace std::chrono_literals;
using testing::ServerTest;
using testing::local_options;

// bcrypt hashes made with Python's crypt module (cost 4 keeps tests fast;
// "slow" has cost 12, about a quarter second).
constexpr const char* kSecret = "$2b$04$WKK7Dohyzbdqv1UrBdU9L.7upHxVMdU2y/MqY2KyJZ743DvWRUTEC";
constexpr const char* kOther = "$2b$04$bNpFYHbCfVpoV59Rm1s5Cu0O9tBvA.4PVmZo2CQK7B2OgvEfMxupa";
constexpr const char* kSlow = "$2b$12$FYyFFIvN4nKTFUUdxPg0s.DL1BCxyNWSIkAfKv5hLIXWKvi1q1Bl.";

TEST(BasicAuthTest, ParsesCredentials) {
  auto c = parse_basic_authorization("Basic YWxpY2U6czNjcjN0");  // alice:s3cr3t
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "s3cr3t");
  // Scheme is case-insensitive; the password may contain ':'; padding.
  c = parse_basic_authorization("bAsIc   dTpwOmE6Yg==");  // u:p:a:b
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "u");
  EXPECT_EQ(c->password, "p:a:b");
  c = parse_basic_authorization("Basic Ong=");  // ":x": empty user
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "");
  EXPECT_EQ(c->password, "x");
}

TEST(BasicAuthTest, RejectsMalformedHeaders) {
  for (std::string_view bad : {"", "Basic", "Basic ", "Bearer YWxpY2U6czNjcjN0", "BasicYWxpY2U6czNjcjN0",
                               "Basic YWxpY2U",          // not a multiple of 4
                               "Basic YWxp!2U6czNjcjN0",  // not base64
                               "Basic YWxpY2U=czNj",      // data after padding
                               "Basic YWxpY2U=",          // "alice": no colon
                               "Basic YTpiAGM="}) {       // "a:b\0c": NUL would truncate
    EXPECT_FALSE(parse_basic_authorization(bad)) << bad;
  }
}

TEST(BasicAuthTest, BcryptMatchesOnlyTheRightPassword) {
  EXPECT_TRUE(bcrypt_matches("secret", kSecret));
  EXPECT_FALSE(bcrypt_matches("Secret", kSecret));
  EXPECT_FALSE(bcrypt_matches("", kSecret));
  // htpasswd writes $2y$, the same algorithm.
  std::string y = kSecret;
  y[2] = 'y';
  EXPECT_TRUE(bcrypt_matches("secret", y));
  EXPECT_FALSE(bcrypt_matches("secret", "not a hash"));
}

// Collects verdicts the way the server does: notify, then take_results().
class Verdicts {
 public:
  void notify() {
    std::lock_guard lock(mu_);
    ++notified_;
    cv_.notify_all();
  }
  bool wait_for(int count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return notified_ >= count; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int notified_ = 0;
};

TEST(AuthenticatorTest, ChecksOffThreadAndCachesOnlySuccesses) {
  Verdicts verdicts;
  Authenticator auth([&] { verdicts.notify(); });
  EXPECT_FALSE(auth.enabled());
  auth.set_users({{"alice", kSecret}, {"bob", kOther}});
  EXPECT_TRUE(auth.enabled());

  EXPECT_EQ(auth.check(7, "p1", {"alice", "secret"}), Authenticator::Verdict::pending);
  EXPECT_EQ(auth.check(8, "p2", {"alice", "wrong"}), Authenticator::Verdict::pending);
  EXPECT_EQ(auth.check(9, "p3", {"mallory", "secret"}), Authenticator::Verdict::pending);
  EXPECT_EQ(auth.check(10, "p4", {"bob", "secret"}), Authenticator::Verdict::pending);  // alice's password
  ASSERT_TRUE(verdicts.wait_for(4));
  auto results = auth.take_results();
  EXPECT_THAT(results, ::testing::UnorderedElementsAre(std::pair<uint64_t, bool>(7, true),
                                                       std::pair<uint64_t, bool>(8, false),
                                                       std::pair<uint64_t, bool>(9, false),
                                                       std::pair<uint64_t, bool>(10, false)));
  EXPECT_TRUE(auth.take_results().empty());
  // A success is cached; a failure is checked again (guesses must not
  // fill the cache and push real credentials out).
  EXPECT_EQ(auth.check(11, "p1", {"alice", "secret"}), Authenticator::Verdict::allowed);
  EXPECT_EQ(auth.check(12, "p2", {"alice", "wrong"}), Authenticator::Verdict::pending);
  ASSERT_TRUE(verdicts.wait_for(5));
  EXPECT_THAT(auth.take_results(), ::testing::ElementsAre(std::pair<uint64_t, bool>(12, false)));
  // The same users again (say only a certificate changed) keep the cache.
  auth.set_users({{"alice", kSecret}, {"bob", kOther}});
  EXPECT_EQ(auth.check(13, "p1", {"alice", "secret"}), Authenticator::Verdict::allowed);
  // New users forget it: alice's old password is checked again.
  auth.set_users({{"alice", kOther}});
  EXPECT_EQ(auth.check(14, "p1", {"alice", "secret"}), Authenticator::Verdict::pending);
  ASSERT_TRUE(verdicts.wait_for(6));
  EXPECT_THAT(auth.take_results(), ::testing::ElementsAre(std::pair<uint64_t, bool>(14, false)));
  EXPECT_EQ(auth.check(15, "p1", {"alice", "other"}), Authenticator::Verdict::pending);
  ASSERT_TRUE(verdicts.wait_for(7));
  EXPECT_THAT(auth.take_results(), ::testing::ElementsAre(std::pair<uint64_t, bool>(15, true)));
}

TEST(AuthenticatorTest, BoundsQueuedChecks) {
  Verdicts verdicts;
  Authenticator auth([&] { verdicts.notify(); }, /*max_pending=*/1);
  auth.set_users({{"slow", kSlow}});
  int busy = 0;
  for (uint64_t t = 1; t <= 6; ++t) {
    if (auth.check(t, "peer" + std::to_string(t), {"slow", "guess" + std::to_string(t)}) ==
        Authenticator::Verdict::busy) {
      ++busy;
    }
  }
  // The worker holds one check (cost 12: a quarter second) and the queue
  // one more: most of six are refused.
  EXPECT_GE(busy, 3);
  EXPECT_LE(busy, 5);
}

TEST(AuthenticatorTest, OnePeerGetsTwoChecksAndClosedConnectionsFreeTheirs) {
  Verdicts verdicts;
  Authenticator auth([&] { verdicts.notify(); });
  auth.set_users({{"slow", kSlow}});
  EXPECT_EQ(auth.check(1, "10.0.0.1", {"slow", "a"}), Authenticator::Verdict::pending);
  EXPECT_EQ(auth.check(2, "10.0.0.1", {"slow", "b"}), Authenticator::Verdict::pending);
  EXPECT_EQ(auth.check(3, "10.0.0.1", {"slow", "c"}), Authenticator::Verdict::busy);
  EXPECT_EQ(auth.check(4, "10.0.0.2", {"slow", "d"}), Authenticator::Verdict::pending);  // another client
  // Ticket 2 is still queued behind 1 (a quarter second of bcrypt): its
  // connection went away, so the slot is free again.
  auth.cancel(2);
  EXPECT_EQ(auth.check(5, "10.0.0.1", {"slow", "e"}), Authenticator::Verdict::pending);
  ASSERT_TRUE(verdicts.wait_for(3));
  auto results = auth.take_results();
  std::vector<uint64_t> tickets;
  for (const auto& [ticket, allowed] : results) tickets.push_back(ticket);
  EXPECT_THAT(tickets, ::testing::UnorderedElementsAre(1, 4, 5));  // never 2
}

// The server with a web config that only sets users and a header.
class AuthServerTest : public ServerTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("klag-auth-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    file_ = dir_ / "web.yml";
    write_config(kSecret);
    ServerOptions options = local_options();
    options.web_config_file = file_.string();
    options.web_config_check_interval = 50ms;
    start(options);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void write_config(const char* hash) {
    replace_file("basic_auth_users:\n  prometheus: '" + std::string(hash) + "'\n" +
                 "http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n");
  }
  // As deployment tools do: write aside, then rename over the file.
  void replace_file(const std::string& text) {
    const auto temporary = dir_ / "web.yml.tmp";
    std::ofstream(temporary) << text;
    std::filesystem::rename(temporary, file_);
  }
  // Long enough for a change to be seen on two checks (50 ms apart) and applied.
  static void let_reload_happen() { std::this_thread::sleep_for(600ms); }
  std::optional<testing::HttpReply> get(const std::string& path, const std::string& authorization) {
    auto client = connect();
    std::string request = "GET " + path + " HTTP/1.1\r\n";
    if (!authorization.empty()) request += "Authorization: " + authorization + "\r\n";
    if (!client->send_all(request + "\r\n")) return std::nullopt;
    return client->read_reply();
  }

  std::filesystem::path dir_;
  std::filesystem::path file_;
};

constexpr const char* kGood = "Basic cHJvbWV0aGV1czpzZWNyZXQ=";  // prometheus:secret
constexpr const char* kBad = "Basic cHJvbWV0aGV1czpzZWNyZVQ=";   // prometheus:secreT

TEST_F(AuthServerTest, EveryRequestNeedsCredentials) {
  auto reply = get("/metrics", "");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401);
  EXPECT_THAT(reply->header("www-authenticate"), ::testing::StartsWith("Basic realm="));
  EXPECT_EQ(reply->header("x-content-type-options"), "nosniff");
  EXPECT_EQ(calls_.load(), 0);
  reply = get("/metrics", kBad);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401);
  reply = get("/metrics", "Bearer abc");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401);
  EXPECT_EQ(calls_.load(), 0);
  reply = get("/metrics", kGood);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "/metrics");
  EXPECT_EQ(reply->header("x-content-type-options"), "nosniff");
  // Other methods are refused only after authentication, as in the toolkit.
  auto client = connect();
  ASSERT_TRUE(client->send_all(std::string("DELETE /metrics HTTP/1.1\r\nAuthorization: ") + kGood + "\r\n\r\n"));
  reply = client->read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 405);
}

TEST_F(AuthServerTest, PipelinedRequestsWaitForTheirVerdictInOrder) {
  auto client = connect();
  std::string requests;
  for (const char* path : {"/one", "/two", "/three"}) {
    requests += std::string("GET ") + path + " HTTP/1.1\r\nAuthorization: " +
                (std::string(path) == "/two" ? kBad : kGood) + "\r\n\r\n";
  }
  ASSERT_TRUE(client->send_all(requests));
  auto one = client->read_reply();
  auto two = client->read_reply();
  auto three = client->read_reply();
  ASSERT_TRUE(one && two && three);
  EXPECT_EQ(one->body, "/one");
  EXPECT_EQ(two->status, 401);
  EXPECT_EQ(three->body, "/three");
}

TEST_F(AuthServerTest, HeadOf401HasNoBody) {
  auto client = connect();
  ASSERT_TRUE(client->send_all("HEAD /metrics HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\nAuthorization: " +
                               std::string(kGood) + "\r\n\r\n"));
  auto head = client->read_reply(/*head_only=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 401);
  EXPECT_TRUE(head->body.empty());
  auto after = client->read_reply();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->body, "/after");  // framing intact after the bodiless 401
}

TEST_F(AuthServerTest, ChangedUsersApplyWithoutRestart) {
  auto reply = get("/x", kGood);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  write_config(kOther);  // prometheus:other from now on
  bool switched = false;
  for (int i = 0; i < 100 && !switched; ++i) {
    std::this_thread::sleep_for(50ms);
    reply = get("/x", kGood);
    switched = reply && reply->status == 401;
  }
  EXPECT_TRUE(switched);
  reply = get("/x", "Basic cHJvbWV0aGV1czpvdGhlcg==");  // prometheus:other
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  // A broken file keeps the last good users.
  replace_file("basic_auth_users:\n  prometheus: not-a-hash\n");
  let_reload_happen();
  reply = get("/x", "Basic cHJvbWV0aGV1czpvdGhlcg==");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  reply = get("/x", "");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401);
}

TEST_F(AuthServerTest, AnEmptiedFileDoesNotTurnAuthenticationOff) {
  // Truncated in place (as `>` or an editor would leave it for a moment),
  // then left empty: an empty web config means "no auth", which a reload
  // must never switch to.
  std::ofstream(file_, std::ios::trunc).close();
  let_reload_happen();
  auto reply = get("/metrics", "");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401);
  replace_file("basic_auth_users:\n");
  let_reload_happen();
  reply = get("/metrics", "");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401);
  reply = get("/metrics", kGood);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST(AuthServerStartTest, BadWebConfigFailsStartWithTheKey) {
  const auto file = std::filesystem::temp_directory_path() / ("klag-badweb-" + std::to_string(::getpid()) + ".yml");
  std::ofstream(file) << "basic_auth_users:\n  prometheus: nope\n";
  ServerOptions options = local_options();
  options.web_config_file = file.string();
  Server server(options, [](const Request&) { return Response::text(200, "x"); });
  auto started = server.start();
  ASSERT_FALSE(started);
  EXPECT_THAT(started.error(), ::testing::HasSubstr("basic_auth_users.prometheus: not a bcrypt hash"));
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace klag::http
