// HTTP basic authentication against bcrypt hashes (the web config's
// basic_auth_users).
//
// bcrypt is slow on purpose (tens of milliseconds at cost 10), and the HTTP
// server has one event-loop thread, so hashes are never checked on it:
// check() answers from a cache of credentials that passed, or queues the
// check for a worker thread, which hands the verdict back through notify().
// Failed checks are not cached, so guesses cannot push Prometheus's
// credentials out of the cache; each client address may have only a couple
// of checks queued, and a closed connection's check is dropped, so one
// guessing client cannot fill the queue either.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace klag::http {

struct Credentials {
  std::string user;
  std::string password;
};

// The credentials of an "Authorization: Basic <base64(user:password)>"
// header value; nullopt when it is another scheme or malformed.
std::optional<Credentials> parse_basic_authorization(std::string_view value);

// True when `password` matches the bcrypt `hash` (libcrypt's crypt_rn).
// Slow by design; call it off the event loop.
bool bcrypt_matches(const std::string& password, const std::string& hash);

class Authenticator {
 public:
  using Users = std::map<std::string, std::string>;  // user -> bcrypt hash
  enum class Verdict { allowed, denied, pending, busy };

  // `notify` runs on the worker thread after a verdict was queued.
  explicit Authenticator(std::function<void()> notify, size_t max_pending = 64,
                         size_t cache_capacity = 1024, size_t max_pending_per_peer = 2);
  ~Authenticator();  // stops and joins the worker; queued checks are dropped
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // Replaces the users; when they changed, forgets every cached verdict.
  void set_users(Users users);
  // False when there are no users: every request is let through.
  bool enabled() const;

  // allowed from the cache; otherwise queues the check under `ticket` and
  // returns pending (its verdict comes from take_results()), or busy when
  // max_pending checks are queued, or max_pending_per_peer for `peer`.
  Verdict check(uint64_t ticket, const std::string& peer, const Credentials& credentials);
  // Drops the queued check of `ticket` (its connection is gone); one already
  // running finishes, and its verdict is ignored by the caller.
  void cancel(uint64_t ticket);
  // Verdicts of finished checks: (ticket, allowed).
  std::vector<std::pair<uint64_t, bool>> take_results();

 private:
  using Key = std::array<unsigned char, 32>;  // SHA-256 of user and password
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Job {
    uint64_t ticket;
    uint64_t generation;
    std::string peer;
    Key key;
    Credentials credentials;
    std::shared_ptr<const Users> users;
    std::string dummy;  // hashed for unknown users, at the users' highest cost
  };
  void release_peer(const std::string& peer);  // mu_ held

  static Key key_of(const Credentials& credentials);
  void run();

  std::function<void()> notify_;
  const size_t max_pending_;
  const size_t cache_capacity_;
  const size_t max_pending_per_peer_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t generation_ = 0;  // bumped by set_users; stale verdicts are not cached
  std::shared_ptr<const Users> users_;
  std::string dummy_;
  std::unordered_map<Key, bool, KeyHash> cache_;  // credentials that passed
  std::map<std::string, size_t> pending_per_peer_;  // queued or running
  std::deque<Job> jobs_;
  std::vector<std::pair<uint64_t, bool>> results_;
  std::thread worker_;
};

}  // namespace klag::http
