// A raw-socket HTTP/1.1 test client: sends exact bytes and parses exactly
// what comes back, so tests see the server's real framing. Header-only so
// each http test file can include it; not thread-safe (one per thread).
#pragma once

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace klag::http::testing {

struct HttpReply {
  int status = 0;
  std::string head;                            // status line and headers, raw
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class TestClient {
 public:
  // Connects to a numeric host; fd() < 0 on failure.
  TestClient(const std::string& host, uint16_t port) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return;
    fd_ = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ >= 0 && ::connect(fd_, found->ai_addr, found->ai_addrlen) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    ::freeaddrinfo(found);
    set_timeout(std::chrono::seconds(5));
  }
  ~TestClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  int fd() const { return fd_; }
  bool connected() const { return fd_ >= 0; }

  void set_timeout(std::chrono::milliseconds timeout) {
    if (fd_ < 0) return;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  // True when every byte was sent.
  bool send_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response; nothing on EOF, reset or timeout before it is whole.
  // For a HEAD request pass head_request so Content-Length is not awaited.
  std::optional<HttpReply> read_reply(bool head_request = false) {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    HttpReply reply;
    reply.head = buffer_.substr(0, end + 4);
    size_t line_end = reply.head.find("\r\n");
    std::string status_line = reply.head.substr(0, line_end);
    if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.1 ")) return std::nullopt;
    reply.status = std::stoi(status_line.substr(9, 3));
    size_t pos = line_end + 2;
    while (pos < end) {
      size_t next = reply.head.find("\r\n", pos);
      std::string line = reply.head.substr(pos, next - pos);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      reply.headers[name] = value;
      pos = next + 2;
    }
    buffer_.erase(0, end + 4);
    size_t length = 0;
    if (!head_request && reply.headers.contains("content-length")) {
      length = std::stoull(reply.headers["content-length"]);
    }
    while (buffer_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return reply;
  }

  // Waits up to `timeout` for the server to close. True on EOF or reset;
  // false on timeout or when more data arrived (kept for read_reply).
  bool closed_within(std::chrono::milliseconds timeout) {
    set_timeout(timeout);
    char chunk[4096];
    ssize_t n;
    do {
      n = ::recv(fd_, chunk, sizeof chunk, 0);
    } while (n < 0 && errno == EINTR);
    set_timeout(std::chrono::seconds(5));
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return false;
    }
    return n == 0 || errno == ECONNRESET;
  }

  // Bytes received but not yet returned by read_reply.
  const std::string& pending() const { return buffer_; }

 private:
  bool fill() {
    char chunk[64 * 1024];
    while (true) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace klag::http::testing
