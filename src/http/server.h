// A small HTTP/1.1 server for /metrics and the status endpoints.
//
// One event-loop thread (epoll, non-blocking sockets) serves every
// connection: handlers only hand out pre-rendered bytes, so a single thread
// is enough and a slow or malicious client can never block another one.
// Limits (header size, idle timeout, connection count) turn bad clients into
// 4xx answers or closed sockets, never a crash. An optional web config file
// (exporter-toolkit format, http/web_config.h) adds TLS and basic auth; the
// server re-reads it when it or its certificate files change.
//
// Thread safety: start() and stop() from one owning thread; the handler runs
// on the event-loop thread only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "http/request.h"

namespace klag::http {

// A body made piece by piece while it is sent, so that a large body derived
// from another (the plain text inflated from the gzip snapshot) is never
// held whole. Used on the event-loop thread only.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // The whole length (Content-Length).
  virtual size_t size() const = 0;
  // The next piece, valid until the next call; empty once done. A stream
  // that ends before size() bytes, or throws, closes the connection.
  virtual std::string_view next() = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  // Shared so a large pre-rendered body (the metrics snapshot) is sent
  // without copying it per request.
  std::shared_ptr<const std::string> body;
  // Instead of `body`: a body made while it is sent.
  std::shared_ptr<BodyStream> stream;
  // Extra headers, e.g. {"Content-Encoding", "gzip"}, {"Vary", "Accept-Encoding"}.
  std::vector<std::pair<std::string, std::string>> headers;

  static Response text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
};

using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string host = "0.0.0.0";  // IPv4 or IPv6 literal, e.g. "::" or "127.0.0.1"
  uint16_t port = 8000;          // 0 picks a free port; see Server::port()
  size_t max_header_bytes = 16 * 1024;
  size_t max_connections = 1024;
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};
  // Paths whose POST requests reach the handler (e.g. "/-/reload"). Every
  // other method than GET and HEAD gets 405 without calling the handler.
  std::vector<std::string> post_paths;
  // `--web.config.file`: TLS and basic auth; empty for plain HTTP.
  std::string web_config_file;
  // How often the web config and its files are checked for changes.
  std::chrono::milliseconds web_config_check_interval{std::chrono::seconds(1)};
};

// Loads a web config and builds its TLS context, as start() would: for
// --check-config. The error names the file and the key.
std::expected<void, std::string> check_web_config(const std::string& file);

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  // stops and joins the loop
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Server(Server&&) = delete;
  Server& operator=(Server&&) = delete;

  // Binds, listens and starts the loop thread. Error text names host:port.
  std::expected<void, std::string> start();
  // Idempotent; returns after the loop thread exited and all sockets closed.
  void stop();
  // The bound port (useful with port 0). Valid after a successful start().
  uint16_t port() const;
  // Whether connections speak TLS (valid after start()).
  bool tls() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace klag::http
