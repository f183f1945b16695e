// The libcurl client and the whole election against an in-process fake of
// the Lease API (plain HTTP, one thread). The integration test runs real
// exporter processes against the HTTPS stand-in; this one checks timing
// rules closely and fast.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "ha/election.h"
#include "ha/lease_client.h"

namespace klag::ha {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

struct Request {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};
struct Answer {
  int status = 200;
  std::string body;
};

// Answers one request per connection on its own thread. A handler that
// returns nullopt leaves the request unanswered (the connection stays open
// until the server dies), like an API server that stopped responding.
class FakeServer {
 public:
  using Handler = std::function<std::optional<Answer>(const Request&)>;

  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 16);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : held_) close(fd);
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      timeval tv{2, 0};
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      auto req = read_request(c);
      auto answer = req ? handler_(*req) : std::optional<Answer>(Answer{400, ""});
      if (!answer) {
        held_.push_back(c);
        continue;
      }
      const std::string out = "HTTP/1.1 " + std::to_string(answer->status) +
                              " X\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                              std::to_string(answer->body.size()) + "\r\n\r\n" + answer->body;
      (void)!write(c, out.data(), out.size());
      close(c);
    }
  }

  static std::optional<Request> read_request(int c) {
    std::string data;
    char buf[4096];
    size_t head_end;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      data.append(buf, n);
    }
    Request r;
    const std::string head = data.substr(0, head_end);
    size_t eol = head.find("\r\n");
    const std::string line = head.substr(0, eol);
    r.method = line.substr(0, line.find(' '));
    r.path = line.substr(r.method.size() + 1, line.rfind(' ') - r.method.size() - 1);
    while (eol != std::string::npos) {
      const size_t next = head.find("\r\n", eol + 2);
      const std::string h = head.substr(eol + 2, next == std::string::npos ? std::string::npos : next - eol - 2);
      if (const size_t colon = h.find(':'); colon != std::string::npos) {
        std::string name = h.substr(0, colon);
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        r.headers[name] = h.substr(h.find_first_not_of(' ', colon + 1));
      }
      eol = next;
    }
    const size_t want = r.headers.contains("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    r.body = data.substr(head_end + 4);
    while (r.body.size() < want) {
      const ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      r.body.append(buf, n);
    }
    return r;
  }

  Handler handler_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> held_;
  std::thread thread_;
};

std::string temp_file(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() / ("klag-lease-test-" + std::to_string(getpid()) + "-" + name);
  std::ofstream(path) << content;
  return path.string();
}

template <typename Pred>
bool eventually(Pred pred, milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return pred();
}

// --- the client ----------------------------------------------------------

TEST(LeaseClient, SendsTheTokenReadAnewEachTimeAndTheBody) {
  std::mutex mu;
  std::vector<Request> seen;
  FakeServer server([&](const Request& r) -> std::optional<Answer> {
    std::lock_guard lock(mu);
    seen.push_back(r);
    return Answer{r.method == "GET" ? 404 : 201, R"({"ok":true})"};
  });
  const std::string token = temp_file("token", "first-token\n");
  lease::Client client(token, "");
  auto got = client.send(lease::Client::Method::get, server.url() + "/x", {}, milliseconds(2000));
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ(got->status, 404);
  std::ofstream(token) << "rotated-token";  // kubelet rotates the projected token
  auto put = client.send(lease::Client::Method::put, server.url() + "/y", R"({"a":1})", milliseconds(2000));
  ASSERT_TRUE(put) << put.error();
  EXPECT_EQ(put->status, 201);
  EXPECT_EQ(put->body, R"({"ok":true})");
  auto post = client.send(lease::Client::Method::post, server.url() + "/z", R"({"b":2})", milliseconds(2000));
  ASSERT_TRUE(post) << post.error();

  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].path, "/x");
  EXPECT_EQ(seen[0].headers["authorization"], "Bearer first-token");
  EXPECT_EQ(seen[0].headers["accept"], "application/json");
  EXPECT_EQ(seen[1].method, "PUT");
  EXPECT_EQ(seen[1].headers["authorization"], "Bearer rotated-token");
  EXPECT_EQ(seen[1].headers["content-type"], "application/json");
  EXPECT_EQ(seen[1].body, R"({"a":1})");
  EXPECT_EQ(seen[2].method, "POST");
  EXPECT_EQ(seen[2].body, R"({"b":2})");
  std::filesystem::remove(token);
}

TEST(LeaseClient, UnreadableTokenFileIsAnErrorNamingTheFile) {
  lease::Client client("/nonexistent/klag/token", "");
  auto got = client.send(lease::Client::Method::get, "http://127.0.0.1:1/x", {}, milliseconds(500));
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().find("/nonexistent/klag/token"), std::string::npos) << got.error();
}

TEST(LeaseClient, CancelEndsARequestInFlightAtOnce) {
  FakeServer silent([](const Request&) { return std::optional<Answer>(); });
  const std::string token = temp_file("token-cancel", "t");
  lease::Client client(token, "");
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(200));
    client.cancel();
  });
  const auto start = Clock::now();
  auto got = client.send(lease::Client::Method::get, silent.url() + "/x", {}, milliseconds(10000));
  const auto took = Clock::now() - start;
  canceller.join();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), "cancelled");
  EXPECT_LT(took, milliseconds(700));
  // The release on stop is not cancellable: it gets its own short budget.
  auto release = client.send(lease::Client::Method::put, silent.url() + "/x", "{}", milliseconds(300), false);
  ASSERT_FALSE(release);
  EXPECT_NE(release.error(), "cancelled");
  std::filesystem::remove(token);
}

// --- the election against a fake Lease API -------------------------------

// An in-memory Lease with resourceVersion, as the API server keeps it.
struct FakeLeaseApi {
  std::mutex mu;
  std::optional<json> lease;
  int rv = 0;
  bool hang = false;
  std::vector<std::string> log;

  std::optional<Answer> handle(const Request& r) {
    std::lock_guard lock(mu);
    log.push_back(r.method + " " + r.path);
    if (hang) return std::nullopt;
    if (r.headers.count("authorization") == 0 || r.headers.at("authorization") != "Bearer t0k3n") {
      return Answer{401, R"({"kind":"Status","message":"Unauthorized"})"};
    }
    if (r.method == "GET") return lease ? Answer{200, lease->dump()} : Answer{404, "{}"};
    json body = json::parse(r.body);
    if (r.method == "POST") {
      if (lease) return Answer{409, R"({"kind":"Status","message":"already exists"})"};
      return store(std::move(body), 201);
    }
    if (!lease) return Answer{404, "{}"};
    if (body["metadata"]["resourceVersion"] != (*lease)["metadata"]["resourceVersion"]) {
      return Answer{409, R"({"kind":"Status","message":"the object has been modified"})"};
    }
    return store(std::move(body), 200);
  }
  Answer store(json body, int status) {
    body["metadata"]["resourceVersion"] = std::to_string(++rv);
    lease = body;
    return Answer{status, body.dump()};
  }
  json spec() {
    std::lock_guard lock(mu);
    return lease ? (*lease)["spec"] : json();
  }
};

config::Leadership leadership(const std::string& url, const std::string& token_file) {
  config::Leadership l;
  l.enabled = true;
  l.provider = "kubernetes";
  l.lease_name = "klag";
  l.lease_namespace = "mon";
  l.lease_duration_secs = 2;  // renew every 500 ms, step down 1 s after the last renew
  l.grace_period_secs = 1;
  l.api_url = url;
  l.token_file = token_file;
  l.ca_file = "";
  return l;
}

struct Changes {
  std::mutex mu;
  std::vector<bool> seen;
  Election::OnChange callback() {
    return [this](bool leader) {
      std::lock_guard lock(mu);
      seen.push_back(leader);
    };
  }
  std::vector<bool> get() {
    std::lock_guard lock(mu);
    return seen;
  }
};

TEST(LeaseElection, CreatesRenewsStepsDownWhenTheApiHangsAndReleasesOnStop) {
  FakeLeaseApi api;
  FakeServer server([&](const Request& r) { return api.handle(r); });
  const std::string token = temp_file("token-e1", "t0k3n\n");
  auto election = make_lease_election(leadership(server.url(), token), "me");
  EXPECT_STREQ(election->provider(), "kubernetes");
  EXPECT_FALSE(election->is_leader(Clock::now()));
  Changes changes;
  election->start(changes.callback());

  ASSERT_TRUE(eventually([&] { return election->is_leader(Clock::now()); }, milliseconds(3000)));
  // is_leader() turns true just before the change callback runs.
  EXPECT_TRUE(eventually([&] { return changes.get() == std::vector<bool>{true}; }, milliseconds(1000)));
  {
    std::lock_guard lock(api.mu);
    ASSERT_GE(api.log.size(), 2u);
    EXPECT_EQ(api.log[0], "GET /apis/coordination.k8s.io/v1/namespaces/mon/leases/klag");
    EXPECT_EQ(api.log[1], "POST /apis/coordination.k8s.io/v1/namespaces/mon/leases");
  }
  EXPECT_EQ(api.spec()["holderIdentity"], "me");
  EXPECT_EQ(api.spec()["leaseDurationSeconds"], 2);
  // Renewed about every 500 ms, by PUT alone.
  std::this_thread::sleep_for(milliseconds(1600));
  {
    std::lock_guard lock(api.mu);
    EXPECT_GE(api.rv, 2);  // created, then renewed at least once (about 3 times unless the machine is loaded)
    EXPECT_LE(api.rv, 8);
    EXPECT_EQ(std::count(api.log.begin(), api.log.end(), "GET /apis/coordination.k8s.io/v1/namespaces/mon/leases/klag"), 1);
  }
  EXPECT_TRUE(election->is_leader(Clock::now()));

  // The API stops answering: leadership ends no later than 1 s (D - G)
  // after the last successful renew, which was at most 500 ms before.
  Clock::time_point hung;
  {
    std::lock_guard lock(api.mu);
    api.hang = true;
    hung = Clock::now();  // after the flag: a renew that succeeds was sent before this
  }
  // Any renew that succeeded was sent before `hung`, so the deadline is
  // already at most hung + 1 s, whatever the thread does meanwhile.
  for (int i = 0; i < 15; ++i) {
    ASSERT_FALSE(election->is_leader(hung + milliseconds(1000)));
    std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(eventually([&] { return !election->is_leader(Clock::now()); }, milliseconds(3000)));
  EXPECT_LE(Clock::now() - hung, milliseconds(1000 + 600));
  ASSERT_TRUE(eventually([&] { return changes.get().size() == 2; }, milliseconds(1000)));
  EXPECT_EQ(changes.get(), (std::vector<bool>{true, false}));
  EXPECT_FALSE(election->is_leader(Clock::now()));

  // Back: the lease still names us and nobody wrote since, so we renew it.
  {
    std::lock_guard lock(api.mu);
    api.hang = false;
  }
  ASSERT_TRUE(eventually([&] { return election->is_leader(Clock::now()); }, milliseconds(3000)));
  EXPECT_TRUE(eventually([&] { return changes.get() == std::vector<bool>{true, false, true}; }, milliseconds(1000)));

  const auto stop_start = Clock::now();
  election->stop();
  EXPECT_LT(Clock::now() - stop_start, milliseconds(1200));
  EXPECT_FALSE(election->is_leader(Clock::now()));
  EXPECT_EQ(changes.get(), (std::vector<bool>{true, false, true, false}));
  EXPECT_FALSE(api.spec().contains("holderIdentity")) << api.spec();
  EXPECT_EQ(api.spec()["leaseDurationSeconds"], 1);
  std::filesystem::remove(token);
}

TEST(LeaseElection, WaitsOutAPeersLeaseCountedFromItsLastChangeThenTakesOver) {
  FakeLeaseApi api;
  api.store(json{{"metadata", {{"name", "klag"}, {"namespace", "mon"}}},
                 {"spec", {{"holderIdentity", "peer"}, {"leaseDurationSeconds", 2}, {"renewTime", "r0"},
                           {"leaseTransitions", 5}}}},
            201);
  FakeServer server([&](const Request& r) { return api.handle(r); });
  const std::string token = temp_file("token-e2", "t0k3n");
  auto election = make_lease_election(leadership(server.url(), token), "me");
  Changes changes;
  election->start(changes.callback());

  // The peer renews every 300 ms for 2.5 s (its renewTime far in the past,
  // to show the wall clock is not read): we never lead.
  Clock::time_point last_renew;
  for (int i = 1; i <= 8; ++i) {
    std::this_thread::sleep_for(milliseconds(300));
    std::lock_guard lock(api.mu);
    (*api.lease)["spec"]["renewTime"] = "1999-01-01T00:00:0" + std::to_string(i) + ".000000Z";
    (*api.lease)["metadata"]["resourceVersion"] = std::to_string(++api.rv);
    last_renew = Clock::now();
    ASSERT_FALSE(election->is_leader(Clock::now()));
  }
  // The peer dies. We take over one lease duration after we last saw its
  // lease change, not before; and promptly after.
  ASSERT_TRUE(eventually([&] { return election->is_leader(Clock::now()); }, milliseconds(4000)));
  const auto waited = Clock::now() - last_renew;
  EXPECT_GE(waited, milliseconds(2000));
  EXPECT_LE(waited, milliseconds(2000 + 1500));  // seen within a renew period (500 ms), plus slack
  EXPECT_EQ(api.spec()["holderIdentity"], "me");
  EXPECT_EQ(api.spec()["leaseTransitions"], 6);
  // is_leader() turns true just before the change callback runs.
  EXPECT_TRUE(eventually([&] { return changes.get() == std::vector<bool>{true}; }, milliseconds(1000)));
  election->stop();
  std::filesystem::remove(token);
}

TEST(LeaseElection, WrongTokenNeverLeadsAndStopIsPrompt) {
  FakeLeaseApi api;
  FakeServer server([&](const Request& r) { return api.handle(r); });
  const std::string token = temp_file("token-e3", "wrong");
  auto election = make_lease_election(leadership(server.url(), token), "me");
  election->start(nullptr);
  std::this_thread::sleep_for(milliseconds(1200));
  EXPECT_FALSE(election->is_leader(Clock::now()));
  {
    std::lock_guard lock(api.mu);
    // It keeps trying (with backoff capped at the renew period, 500 ms).
    EXPECT_GE(api.log.size(), 2u);
    EXPECT_FALSE(api.lease.has_value());
  }
  const auto stop_start = Clock::now();
  election->stop();
  EXPECT_LT(Clock::now() - stop_start, milliseconds(300));
  std::filesystem::remove(token);
}

TEST(LeaseElection, StopWhileTheApiNeverAnswersIsBounded) {
  FakeServer blackhole([](const Request&) { return std::optional<Answer>(); });
  const std::string token = temp_file("token-e4", "t0k3n");
  auto election = make_lease_election(leadership(blackhole.url(), token), "me");
  election->start(nullptr);
  std::this_thread::sleep_for(milliseconds(200));
  const auto stop_start = Clock::now();
  election->stop();
  EXPECT_LT(Clock::now() - stop_start, milliseconds(300));
  EXPECT_FALSE(election->is_leader(Clock::now()));
  std::filesystem::remove(token);
}

TEST(LeaseElection, NoApiUrlOutsideAPodIsAnError) {
  if (std::getenv("KUBERNETES_SERVICE_HOST")) GTEST_SKIP() << "running in a pod";
  config::Leadership l;
  EXPECT_THROW(make_lease_election(l, "me"), std::runtime_error);
}

}  // namespace
}  // namespace klag::ha
