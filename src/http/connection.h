// One accepted client socket and its request/response state machine
// (internal to the http stage).
//
// Owns the socket fd (closed by the destructor), its TLS session when the
// server has TLS, the read buffer and the response being written, which
// holds a reference to the shared body so a large body is never copied. The
// server's event-loop thread is the only caller; epoll registration stays
// with the server, which asks wanted_events() after every call.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/basic_auth.h"
#include "http/server.h"
#include "http/tls.h"

namespace klag::http::detail {

using Clock = std::chrono::steady_clock;

// Settings shared by every connection of one server; outlives them.
struct ConnectionContext {
  const Handler* handler = nullptr;
  const std::vector<std::string>* post_paths = nullptr;
  // Basic auth (null or !enabled(): none) and the web config's response
  // headers; both belong to the server and change only on its thread.
  Authenticator* auth = nullptr;
  const std::vector<std::pair<std::string, std::string>>* extra_headers = nullptr;
  size_t max_header_bytes = 0;
  std::chrono::milliseconds idle_timeout{0};
  // How long to keep reading (and discarding) after our final response so
  // the client sees it instead of a reset.
  std::chrono::milliseconds linger_timeout{0};
};

class Connection {
 public:
  // With `tls`, the connection speaks TLS (handshake first) over `fd`.
  // `peer`: the client's address, which bounds its share of password checks.
  Connection(int fd, uint64_t id, const ConnectionContext& context, Clock::time_point now,
             std::shared_ptr<const TlsContext> tls = nullptr, std::string peer = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }
  uint64_t id() const { return id_; }
  // Reacts to epoll readiness (EPOLLIN/EPOLLOUT/EPOLLHUP/EPOLLERR bits).
  void on_event(uint32_t events, Clock::time_point now);
  // Closes the connection when it has been idle, slow or lingering too long.
  void check_deadline(Clock::time_point now);
  // The verdict of a basic-auth check this connection is waiting for.
  void on_auth_result(bool allowed, Clock::time_point now);
  // Waiting for a request (none half-answered): may be closed to make room
  // for a new connection. `since` is when it started waiting.
  bool evictable() const { return state_ == State::reading; }
  Clock::time_point waiting_since() const { return timer_start_; }
  // Closes at once (the server's connection limit needs the slot).
  void evict() { close(); }
  bool closed() const { return state_ == State::closed; }
  // epoll events the connection needs next; 0 once closed.
  uint32_t wanted_events() const;

 private:
  enum class State {
    reading,   // waiting for (the rest of) a request
    authenticating,  // a request waits for its basic-auth verdict
    writing,   // a response is queued; no new request is parsed meanwhile
    draining,  // final response sent and write side shut; discarding input
    closed,
  };

  // The response being sent: head bytes plus a slice of the shared body,
  // or a body stream's pieces.
  struct Outgoing {
    std::string head;
    std::shared_ptr<const std::string> body;  // null or unused for HEAD
    std::shared_ptr<BodyStream> stream;       // instead of body
    std::string_view piece;                   // stream: its current piece's unsent rest
    size_t body_length = 0;
    size_t sent = 0;  // over head then body
  };

  // Socket or TLS I/O; would_block also covers TLS wanting the other
  // direction (recorded in want_read_/want_write_ for wanted_events()).
  enum class Io { done, would_block, eof, failed };
  Io receive(char* data, size_t size, size_t& received);
  Io send(const iovec* iov, int count, size_t& sent);
  // The outcome of a failed SSL_read_ex (reading) or SSL_write_ex.
  Io tls_failure(int rc, bool reading);
  // Bytes TLS has decrypted but we have not read: epoll cannot see them.
  bool tls_buffered() const;

  void read_input();
  void process(Clock::time_point now);
  // Method check, then the handler.
  void serve(const Request& request, bool head_only, bool close, bool announce,
             Clock::time_point now);
  void respond_unauthorized(bool head_only, bool close, bool announce, Clock::time_point now);
  void respond(Response response, bool head_only, bool close, bool announce_keep_alive,
               Clock::time_point now);
  void respond_error(int status, Clock::time_point now);
  Response call_handler(const Request& request);
  void flush(Clock::time_point now);
  // Makes the stream's next piece; false when it failed or ended early.
  bool next_piece();
  void begin_linger(Clock::time_point now);
  void drain();
  void close();

  // A request parked while its credentials are checked.
  struct Pending {
    Request request;
    bool head_only = false;
    bool close = false;
    bool announce = false;
  };

  int fd_;
  uint64_t id_;
  const ConnectionContext& context_;
  std::string peer_;
  std::shared_ptr<const TlsContext> tls_;  // keeps ssl_'s context alive
  SslPtr ssl_;
  bool want_read_ = false;   // TLS needs input before it can go on
  bool want_write_ = false;  // TLS needs to send before it can go on
  bool tls_checked_ = false;  // the first byte was seen to start a TLS handshake
  bool plaintext_on_tls_ = false;  // it did not: answer 400 in plain HTTP
  std::optional<Pending> pending_;
  State state_ = State::reading;
  std::string input_;
  bool peer_eof_ = false;
  std::optional<Outgoing> out_;
  bool close_after_write_ = false;
  // reading: when we became ready for the next request, so a request head
  // trickling in byte by byte (slowloris) still hits the idle timeout.
  // writing: the last time the client accepted bytes.
  Clock::time_point timer_start_;
  Clock::time_point linger_deadline_;
};

}  // namespace klag::http::detail
