// Server: the listening socket, the epoll loop thread and the connection
// table. Per-connection protocol handling lives in connection.cc.
#include "http/server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <new>
#include <system_error>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "http/basic_auth.h"
#include "http/connection.h"
#include "http/tls.h"
#include "http/web_config.h"

namespace klag::http {
namespace {

using detail::Clock;
using detail::Connection;

// epoll user data for the non-connection fds; connection ids start above.
constexpr uint64_t kWakeId = 0;
constexpr uint64_t kListenId = 1;
constexpr uint64_t kAuthId = 2;  // basic-auth verdicts are ready
constexpr uint64_t kFirstConnectionId = 3;

constexpr std::chrono::milliseconds kMaxSweepInterval{1000};
constexpr std::chrono::milliseconds kMinSweepInterval{10};
constexpr std::chrono::milliseconds kMaxLinger{1000};
// Pause after EMFILE and friends: the listen socket stays readable, so
// retrying at once would spin the loop at 100% CPU.
constexpr std::chrono::milliseconds kAcceptBackoff{100};
// How often a rejected web config change is tried again.
constexpr std::chrono::seconds kWebRetryInterval{10};

std::string display_address(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string errno_text(int err) { return std::strerror(err); }

// The client's address without its port ("10.1.2.3", "::1"): the unit of
// fairness for password checks.
std::string peer_address(const sockaddr_storage& peer, socklen_t length) {
  char host[NI_MAXHOST] = {};
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&peer), length, host, sizeof host, nullptr, 0,
                    NI_NUMERICHOST) != 0) {
    return "?";
  }
  return host;
}

// What a web config turns into: the TLS context (null: plain HTTP), users
// and headers.
struct LoadedWeb {
  WebConfig config;
  std::shared_ptr<const detail::TlsContext> tls;
};

std::expected<LoadedWeb, std::string> load_web(const std::string& file) {
  auto config = load_web_config(file);
  if (!config) return std::unexpected(config.error());
  LoadedWeb loaded{std::move(*config), nullptr};
  if (loaded.config.tls_enabled) {
    auto tls = detail::TlsContext::create(loaded.config.tls);
    if (!tls) return std::unexpected("web config " + file + ": " + tls.error());
    loaded.tls = std::move(*tls);
  }
  return loaded;
}

// Identity of the files a web config uses, to notice a change (a rewrite,
// or a Kubernetes secret's symlink swap) without reading them.
using FileSignature = std::vector<std::array<int64_t, 4>>;

FileSignature signature_of(const std::vector<std::filesystem::path>& files) {
  FileSignature out;
  for (const auto& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) {
      out.push_back({-1, errno, 0, 0});
    } else {
      out.push_back({static_cast<int64_t>(st.st_ino), static_cast<int64_t>(st.st_size),
                     static_cast<int64_t>(st.st_mtim.tv_sec), static_cast<int64_t>(st.st_mtim.tv_nsec)});
    }
  }
  return out;
}

}  // namespace

std::expected<void, std::string> check_web_config(const std::string& file) {
  auto loaded = load_web(file);
  if (!loaded) return std::unexpected(loaded.error());
  return {};
}

// Owns the listen socket, epoll fd, wake eventfd, loop thread and (on that
// thread) every Connection. start()/stop() run on the owning thread; all
// other members after start() are touched by the loop thread only.
struct Server::Impl {
  ServerOptions options_;
  Handler handler_;
  detail::ConnectionContext context_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int auth_fd_ = -1;  // eventfd the authenticator signals; -1 without a web config
  std::atomic<uint16_t> bound_port_{0};
  std::thread thread_;

  // Loop-thread state.
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::unordered_map<uint64_t, uint32_t> registered_events_;
  uint64_t next_id_ = kFirstConnectionId;
  bool accept_paused_ = false;
  Clock::time_point accept_resume_at_;
  Clock::time_point last_accept_warning_;
  // Web config state (loop thread after start()).
  std::shared_ptr<const detail::TlsContext> tls_;
  std::unique_ptr<Authenticator> auth_;
  std::vector<std::pair<std::string, std::string>> extra_headers_;
  std::vector<std::filesystem::path> web_files_;
  FileSignature web_signature_;          // of web_files_, when last looked at
  FileSignature web_pending_signature_;  // a change seen once, settling
  std::string web_rejected_error_;       // why the last change was refused
  Clock::time_point web_retry_at_;
  Clock::time_point next_web_check_;
  std::atomic<bool> tls_enabled_{false};

  Impl(ServerOptions opts, Handler h) : options_(std::move(opts)), handler_(std::move(h)) {
    // Accept the bracketed form people copy from URLs ("[::1]").
    std::string& host = options_.host;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    context_.handler = &handler_;
    context_.post_paths = &options_.post_paths;
    context_.extra_headers = &extra_headers_;
    context_.max_header_bytes = options_.max_header_bytes;
    context_.idle_timeout = options_.idle_timeout;
    context_.linger_timeout = std::min(options_.idle_timeout, kMaxLinger);
  }

  std::chrono::milliseconds sweep_interval() const {
    return std::clamp(options_.idle_timeout / 4, kMinSweepInterval, kMaxSweepInterval);
  }

  std::expected<void, std::string> open_listener();
  std::expected<void, std::string> load_web_config_file();
  void apply_web(LoadedWeb loaded);
  void check_web_config_changes(Clock::time_point now);
  void deliver_auth_results(Clock::time_point now);
  bool evict_idle_connection();
  void close_fds();
  void run();
  void accept_all(Clock::time_point now);
  void set_listen_events(uint32_t events);
  void update(uint64_t id);
  void remove(uint64_t id);
  void sweep(Clock::time_point now);
};

std::expected<void, std::string> Server::Impl::open_listener() {
  const std::string& host = options_.host;
  const std::string where = display_address(host, options_.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string port_text = std::to_string(options_.port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port_text.c_str(), &hints, &found);
  if (rc != 0) {
    return std::unexpected("http server: invalid listen address " + where + ": " +
                           ::gai_strerror(rc) + " (expected an IPv4 or IPv6 literal)");
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(found, &::freeaddrinfo);

  std::string last_error = "no usable address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = "socket: " + errno_text(errno);
      continue;
    }
    int one = 1;
    int zero = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // "::" must also serve IPv4 clients, whatever net.ipv6.bindv6only says.
    if (ai->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      last_error = "bind: " + errno_text(errno);
      ::close(fd);
      continue;
    }
    if (::listen(fd, SOMAXCONN) != 0) {
      last_error = "listen: " + errno_text(errno);
      ::close(fd);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
      last_error = "getsockname: " + errno_text(errno);
      ::close(fd);
      continue;
    }
    uint16_t port = bound.ss_family == AF_INET6
                        ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                        : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    listen_fd_ = fd;
    bound_port_.store(port);
    return {};
  }
  return std::unexpected("http server: cannot listen on " + where + ": " + last_error);
}

std::expected<void, std::string> Server::Impl::load_web_config_file() {
  const std::string& file = options_.web_config_file;
  web_signature_ = signature_of({file});
  auto loaded = load_web(file);
  if (!loaded) return std::unexpected(loaded.error());
  web_files_ = {file};
  auth_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (auth_fd_ < 0) return std::unexpected("eventfd: " + errno_text(errno));
  const int fd = auth_fd_;
  auth_ = std::make_unique<Authenticator>([fd] {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t written = ::write(fd, &one, sizeof one);
  });
  context_.auth = auth_.get();
  apply_web(std::move(*loaded));
  if (web_files_.size() > 1) web_signature_ = signature_of(web_files_);
  return {};
}

void Server::Impl::apply_web(LoadedWeb loaded) {
  web_files_ = web_config_files(options_.web_config_file, loaded.config);
  tls_ = std::move(loaded.tls);
  tls_enabled_.store(tls_ != nullptr);
  auth_->set_users(std::move(loaded.config.basic_auth_users));
  extra_headers_ = std::move(loaded.config.headers);
}

// Reloads the web config when it or a file it names changed. Careful on
// three counts: a file must look the same on two checks in a row before it
// is read (an editor or `>` may have truncated it a moment ago); a reload
// may not turn TLS off or remove every user, so a half-written or emptied
// file cannot open the exporter up (restart for that); and a rejected
// change is retried every 10 s, since it may name files that appear later.
void Server::Impl::check_web_config_changes(Clock::time_point now) {
  if (options_.web_config_file.empty() || now < next_web_check_) return;
  next_web_check_ = now + options_.web_config_check_interval;
  FileSignature current = signature_of(web_files_);
  const bool retry_due = !web_rejected_error_.empty() && now >= web_retry_at_;
  if (current == web_signature_ && !retry_due) {
    web_pending_signature_.clear();
    return;
  }
  if (current != web_pending_signature_) {
    web_pending_signature_ = current;  // settle first
    return;
  }
  std::string error;
  auto loaded = load_web(options_.web_config_file);
  if (!loaded) {
    error = loaded.error();
  } else if (tls_ && !loaded->tls) {
    error = "web config " + options_.web_config_file + ": the change would turn TLS off; restart to do that";
  } else if (auth_->enabled() && loaded->config.basic_auth_users.empty()) {
    error = "web config " + options_.web_config_file +
            ": the change would remove every basic-auth user; restart to do that";
  }
  if (!error.empty()) {
    // Until a good version arrives the old settings hold; say so once per
    // distinct problem, not every retry.
    if (error != web_rejected_error_) {
      spdlog::warn("http: {}; keeping the previous TLS and authentication settings", error);
    }
    web_rejected_error_ = std::move(error);
    web_retry_at_ = now + kWebRetryInterval;
    web_signature_ = std::move(current);
    web_pending_signature_.clear();
    return;
  }
  const auto old_files = web_files_;
  apply_web(std::move(*loaded));
  // The signature read before loading, so a change made while we read is
  // seen at the next check (a new file list is read now: a tiny window).
  web_signature_ = web_files_ == old_files ? std::move(current) : signature_of(web_files_);
  web_pending_signature_.clear();
  web_rejected_error_.clear();
  spdlog::info("http: reloaded web config {} (TLS {}, basic auth {})", options_.web_config_file,
               tls_ ? "on" : "off", auth_->enabled() ? "on" : "off");
}

void Server::Impl::deliver_auth_results(Clock::time_point now) {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(auth_fd_, &count, sizeof count);
  for (const auto& [id, allowed] : auth_->take_results()) {
    auto it = connections_.find(id);
    if (it == connections_.end()) continue;  // gone meanwhile
    try {
      it->second->on_auth_result(allowed, now);
    } catch (const std::exception& e) {
      spdlog::warn("http: connection {} dropped: {}", id, e.what());
      remove(id);
      continue;
    }
    update(id);
  }
}

// At the connection limit, a connection that waits for a request (idle
// keep-alive, or a request head trickling in) makes room for a new one:
// the one waiting longest. So idle or slowloris clients cannot lock
// Prometheus out; they only lose their own connections.
bool Server::Impl::evict_idle_connection() {
  uint64_t victim = 0;
  Clock::time_point oldest = Clock::time_point::max();
  for (const auto& [id, connection] : connections_) {
    if (connection->evictable() && connection->waiting_since() < oldest) {
      oldest = connection->waiting_since();
      victim = id;
    }
  }
  if (victim == 0) return false;
  spdlog::debug("http: connection limit reached, closing idle connection {}", victim);
  connections_.at(victim)->evict();
  remove(victim);
  return true;
}

void Server::Impl::close_fds() {
  // The authenticator's worker signals auth_fd_: it goes first, so nothing
  // writes to that descriptor number after it is closed (and reused).
  context_.auth = nullptr;
  auth_.reset();
  for (int* fd : {&listen_fd_, &epoll_fd_, &wake_fd_, &auth_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void Server::Impl::set_listen_events(uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = kListenId;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
}

void Server::Impl::accept_all(Clock::time_point now) {
  while (true) {
    sockaddr_storage peer{};
    socklen_t peer_length = sizeof peer;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &peer_length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      // The client gave up between SYN and accept, or a signal: try the next.
      if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
      if (now - last_accept_warning_ >= std::chrono::seconds(1)) {
        spdlog::warn("http: accept failed: {}; pausing accepts for {} ms", errno_text(err),
                     kAcceptBackoff.count());
        last_accept_warning_ = now;
      }
      accept_paused_ = true;
      accept_resume_at_ = now + kAcceptBackoff;
      set_listen_events(0);
      return;
    }
    if (connections_.size() >= options_.max_connections && !evict_idle_connection()) {
      spdlog::debug("http: connection limit {} reached, closing new connection",
                    options_.max_connections);
      ::close(fd);
      continue;
    }
    // Responses go out as one sendmsg each; Nagle would only add latency
    // when a pipelined response follows a partial write.
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint64_t id = next_id_++;
    std::unique_ptr<Connection> connection;
    try {
      connection = std::make_unique<Connection>(fd, id, context_, now, tls_,  // owns fd from here
                                                peer_address(peer, peer_length));
      registered_events_[id] = 0;
      connections_.emplace(id, std::move(connection));
    } catch (const std::bad_alloc&) {
      if (!connection) ::close(fd);
      registered_events_.erase(id);
      spdlog::warn("http: out of memory accepting a connection");
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      spdlog::debug("http: epoll_ctl add failed: {}", errno_text(errno));
      connections_.erase(id);
      registered_events_.erase(id);
      continue;
    }
    registered_events_[id] = EPOLLIN;
    spdlog::debug("http: connection {} accepted ({} open)", id, connections_.size());
  }
}

void Server::Impl::remove(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second->fd(), nullptr);
  connections_.erase(it);
  registered_events_.erase(id);
}

void Server::Impl::update(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& connection = *it->second;
  if (connection.closed()) {
    remove(id);
    return;
  }
  uint32_t wanted = connection.wanted_events();
  uint32_t& registered = registered_events_[id];
  if (wanted == registered) return;
  epoll_event ev{};
  ev.events = wanted;
  ev.data.u64 = id;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd(), &ev) != 0) {
    remove(id);
    return;
  }
  registered = wanted;
}

void Server::Impl::sweep(Clock::time_point now) {
  std::vector<uint64_t> expired;
  for (auto& [id, connection] : connections_) {
    connection->check_deadline(now);
    if (connection->closed()) expired.push_back(id);
  }
  for (uint64_t id : expired) remove(id);
}

void Server::Impl::run() {
  std::array<epoll_event, 64> events;
  const auto interval = sweep_interval();
  auto next_sweep = Clock::now() + interval;
  while (true) {
    auto now = Clock::now();
    auto wake_at = next_sweep;
    if (accept_paused_) wake_at = std::min(wake_at, accept_resume_at_);
    if (!options_.web_config_file.empty()) wake_at = std::min(wake_at, next_web_check_);
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake_at - now);
    int timeout = static_cast<int>(std::max<int64_t>(0, wait.count()));
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("http: epoll_wait failed: {}; server loop exiting", errno_text(errno));
      break;
    }
    now = Clock::now();
    bool stop_requested = false;
    for (int i = 0; i < n; ++i) {
      uint64_t id = events[i].data.u64;
      if (id == kWakeId) {
        stop_requested = true;
      } else if (id == kAuthId) {
        deliver_auth_results(now);
      } else if (id == kListenId) {
        if (!accept_paused_) accept_all(now);
      } else if (auto it = connections_.find(id); it != connections_.end()) {
        try {
          it->second->on_event(events[i].events, now);
        } catch (const std::exception& e) {
          // Most likely bad_alloc: give up on this client, keep serving.
          spdlog::warn("http: connection {} dropped: {}", id, e.what());
          remove(id);
          continue;
        }
        update(id);
      }
    }
    if (stop_requested) break;
    if (accept_paused_ && now >= accept_resume_at_) {
      accept_paused_ = false;
      set_listen_events(EPOLLIN);
    }
    if (now >= next_sweep) {
      sweep(now);
      next_sweep = now + interval;
    }
    check_web_config_changes(now);
  }
  connections_.clear();  // closes every client socket
  registered_events_.clear();
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() { stop(); }

std::expected<void, std::string> Server::start() {
  Impl& impl = *impl_;
  if (impl.thread_.joinable()) return std::unexpected(std::string("http server: already started"));
  if (!impl.handler_) return std::unexpected(std::string("http server: no handler"));
  if (!impl.options_.web_config_file.empty()) {
    if (auto web = impl.load_web_config_file(); !web) {
      impl.close_fds();
      return web;
    }
    impl.next_web_check_ = Clock::now() + impl.options_.web_config_check_interval;
  }
  if (auto listening = impl.open_listener(); !listening) {
    impl.close_fds();
    return listening;
  }

  const std::string where = display_address(impl.options_.host, impl.bound_port_.load());
  auto fail = [&](const char* what) -> std::expected<void, std::string> {
    std::string message = "http server on " + where + ": " + what + ": " + errno_text(errno);
    impl.close_fds();
    return std::unexpected(std::move(message));
  };
  impl.epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (impl.epoll_fd_ < 0) return fail("epoll_create1");
  impl.wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl.wake_fd_ < 0) return fail("eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  if (::epoll_ctl(impl.epoll_fd_, EPOLL_CTL_ADD, impl.wake_fd_, &ev) != 0) return fail("epoll_ctl");
  ev.data.u64 = kListenId;
  if (::epoll_ctl(impl.epoll_fd_, EPOLL_CTL_ADD, impl.listen_fd_, &ev) != 0) return fail("epoll_ctl");
  if (impl.auth_fd_ >= 0) {
    ev.data.u64 = kAuthId;
    if (::epoll_ctl(impl.epoll_fd_, EPOLL_CTL_ADD, impl.auth_fd_, &ev) != 0) return fail("epoll_ctl");
  }

  impl.accept_paused_ = false;
  try {
    impl.thread_ = std::thread([&impl] { impl.run(); });
  } catch (const std::system_error& e) {
    impl.close_fds();
    return std::unexpected("http server on " + where + ": cannot start thread: " + e.what());
  }
  spdlog::debug("http: listening on {}", where);
  return {};
}

void Server::stop() {
  Impl& impl = *impl_;
  if (!impl.thread_.joinable()) return;
  uint64_t one = 1;
  // Only fails if the counter would overflow, and then it is readable anyway.
  [[maybe_unused]] ssize_t written = ::write(impl.wake_fd_, &one, sizeof one);
  impl.thread_.join();
  impl.close_fds();
}

uint16_t Server::port() const { return impl_->bound_port_.load(); }

bool Server::tls() const { return impl_->tls_enabled_.load(); }

}  // namespace klag::http
