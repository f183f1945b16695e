#include "http/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>

#include <spdlog/spdlog.h>

namespace klag::http {
namespace {

// A bcrypt hash of a random string nobody knows, checked for unknown users
// so that a wrong user name costs as long as a wrong password.
constexpr const char* kDummyHash = "$2b$10$Xclcc293En6UEA3pjhI9FubH9oQeFN1s70laKVCOl6yO3.P92omyq";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with padding (RFC 4648 section 4), as browsers and
// Prometheus send it; nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int padding = 0;
    for (int j = 0; j < 4; ++j) {
      char c = in[i + j];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++padding;
        continue;
      }
      if (padding > 0) return std::nullopt;  // data after '='
      v[j] = base64_value(c);
      if (v[j] < 0) return std::nullopt;
    }
    const uint32_t bits = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) |
                          uint32_t(v[3]);
    out.push_back(static_cast<char>((bits >> 16) & 0xff));
    if (padding < 2) out.push_back(static_cast<char>((bits >> 8) & 0xff));
    if (padding < 1) out.push_back(static_cast<char>(bits & 0xff));
  }
  return out;
}

}  // namespace

std::optional<Credentials> parse_basic_authorization(std::string_view value) {
  // The scheme is case-insensitive (RFC 7617); one or more spaces follow.
  constexpr std::string_view kScheme = "basic";
  if (value.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return std::nullopt;
  }
  value.remove_prefix(kScheme.size());
  if (value.front() != ' ') return std::nullopt;
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  auto decoded = base64_decode(value);
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  // crypt() stops at a NUL, so "secret\0anything" must not pass as "secret".
  if (decoded->find('\0') != std::string::npos) return std::nullopt;
  return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

bool bcrypt_matches(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (out == nullptr) return false;
  const size_t length = std::strlen(out);
  return length == hash.size() && CRYPTO_memcmp(out, hash.data(), length) == 0;
}

size_t Authenticator::KeyHash::operator()(const Key& k) const {
  size_t h;
  std::memcpy(&h, k.data(), sizeof h);  // already a cryptographic digest
  return h;
}

Authenticator::Key Authenticator::key_of(const Credentials& credentials) {
  // User and password, length-prefixed so "a:b" + "c" != "a" + "b:c".
  std::string material = std::to_string(credentials.user.size()) + ":" + credentials.user + credentials.password;
  Key key{};
  unsigned int length = 0;
  EVP_Digest(material.data(), material.size(), key.data(), &length, EVP_sha256(), nullptr);
  OPENSSL_cleanse(material.data(), material.size());
  return key;
}

Authenticator::Authenticator(std::function<void()> notify, size_t max_pending, size_t cache_capacity,
                             size_t max_pending_per_peer)
    : notify_(std::move(notify)),
      max_pending_(max_pending),
      cache_capacity_(cache_capacity),
      max_pending_per_peer_(max_pending_per_peer),
      users_(std::make_shared<const Users>()),
      dummy_(kDummyHash) {
  worker_ = std::thread([this] { run(); });
}

Authenticator::~Authenticator() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void Authenticator::set_users(Users users) {
  // Unknown users are checked against a made-up hash at the highest cost in
  // use (the salt part of that user's hash), so their answer takes as long.
  std::string dummy = kDummyHash;
  int highest = -1;
  for (const auto& [_, hash] : users) {
    const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');  // validated by the parser
    if (cost > highest) {
      highest = cost;
      dummy = hash.substr(0, 29);  // "$2b$12$" and 22 characters of salt
    }
  }
  std::lock_guard lock(mu_);
  if (*users_ == users) return;  // e.g. only a certificate changed: keep the cache
  users_ = std::make_shared<const Users>(std::move(users));
  dummy_ = std::move(dummy);
  cache_.clear();
  ++generation_;
}

bool Authenticator::enabled() const {
  std::lock_guard lock(mu_);
  return !users_->empty();
}

Authenticator::Verdict Authenticator::check(uint64_t ticket, const std::string& peer,
                                             const Credentials& credentials) {
  const Key key = key_of(credentials);
  std::lock_guard lock(mu_);
  if (cache_.contains(key)) return Verdict::allowed;
  size_t& for_peer = pending_per_peer_[peer];
  if (jobs_.size() >= max_pending_ || for_peer >= max_pending_per_peer_) {
    if (for_peer == 0) pending_per_peer_.erase(peer);
    return Verdict::busy;
  }
  ++for_peer;
  jobs_.push_back(Job{ticket, generation_, peer, key, credentials, users_, dummy_});
  wake_.notify_one();
  return Verdict::pending;
}

void Authenticator::release_peer(const std::string& peer) {
  auto it = pending_per_peer_.find(peer);
  if (it != pending_per_peer_.end() && --it->second == 0) pending_per_peer_.erase(it);
}

void Authenticator::cancel(uint64_t ticket) {
  std::lock_guard lock(mu_);
  for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
    if (it->ticket == ticket) {
      release_peer(it->peer);
      jobs_.erase(it);
      return;
    }
  }
}

std::vector<std::pair<uint64_t, bool>> Authenticator::take_results() {
  std::lock_guard lock(mu_);
  return std::exchange(results_, {});
}

void Authenticator::run() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    bool allowed = false;
    auto user = job.users->find(job.credentials.user);
    if (user != job.users->end()) {
      allowed = bcrypt_matches(job.credentials.password, user->second);
    } else {
      bcrypt_matches(job.credentials.password, job.dummy);  // as long as for a known user
    }
    lock.lock();
    release_peer(job.peer);
    if (allowed && job.generation == generation_) {
      // Only real users' passwords get here, so the bound is a formality.
      if (cache_.size() >= cache_capacity_) cache_.clear();
      cache_[job.key] = true;
    }
    results_.emplace_back(job.ticket, allowed);
    lock.unlock();
    notify_();
    lock.lock();
  }
}

}  // namespace klag::http
