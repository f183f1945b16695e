#include "http/connection.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>

#include <spdlog/spdlog.h>

#include "http/request.h"
#include "http/response_head.h"

namespace klag::http::detail {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
// Bounds the time one flooding client can hold the loop inside drain().
constexpr int kMaxDrainReadsPerEvent = 64;
// Body-stream pieces made per flush (32 KB each for the plain exposition).
constexpr int kMaxPiecesPerFlush = 16;

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

}  // namespace

Connection::Connection(int fd, uint64_t id, const ConnectionContext& context, Clock::time_point now,
                       std::shared_ptr<const TlsContext> tls, std::string peer)
    : fd_(fd), id_(id), context_(context), peer_(std::move(peer)), tls_(std::move(tls)), timer_start_(now) {
  if (tls_) {
    ssl_ = tls_->new_session(fd_);
    if (!ssl_) {
      spdlog::warn("http: connection {}: cannot start a TLS session: {}", id_, take_openssl_errors());
      close();
    }
  }
}

Connection::~Connection() {
  ssl_.reset();
  if (fd_ >= 0) ::close(fd_);
}

uint32_t Connection::wanted_events() const {
  switch (state_) {
    case State::reading:
    case State::draining:
      // TLS may need to send before it can read on (and the reverse while
      // writing): then wait for that direction only, or unread input would
      // wake the loop again and again for nothing.
      return want_write_ ? uint32_t{EPOLLOUT} : uint32_t{EPOLLIN};
    case State::writing:
      return want_read_ ? uint32_t{EPOLLIN} : uint32_t{EPOLLOUT};
    case State::authenticating:
      return 0;  // the verdict, not the socket, moves it on
    case State::closed:
      return 0;
  }
  return 0;
}

void Connection::on_event(uint32_t events, Clock::time_point now) {
  if (state_ == State::closed) return;
  if (events & EPOLLERR) {
    spdlog::debug("http: connection {} socket error", id_);
    close();
    return;
  }
  switch (state_) {
    case State::draining:
      drain();
      return;
    case State::authenticating:
      // Only hang-ups arrive while no events are wanted; nobody is left to
      // answer, and a level-triggered HUP would otherwise spin the loop.
      if (events & EPOLLHUP) close();
      return;
    case State::writing:
      flush(now);
      // Input that arrived meanwhile may sit decrypted inside TLS, where
      // epoll cannot see it.
      if (state_ == State::reading && tls_buffered()) read_input();
      break;
    case State::reading:
      read_input();
      break;
    case State::closed:
      return;
  }
  process(now);
}

Connection::Io Connection::receive(char* data, size_t size, size_t& received) {
  received = 0;
  if (!ssl_) {
    while (true) {
      ssize_t n = ::recv(fd_, data, size, 0);
      if (n > 0) {
        received = static_cast<size_t>(n);
        return Io::done;
      }
      if (n == 0) return Io::eof;
      if (errno == EINTR) continue;
      if (would_block(errno)) return Io::would_block;
      spdlog::debug("http: connection {} read failed: {}", id_, std::strerror(errno));
      return Io::failed;
    }
  }
  if (!tls_checked_) {
    // A TLS connection starts with a handshake record (0x16). Anything else
    // is most likely plain HTTP sent to the TLS port: say so in plain HTTP,
    // as Go's server does, instead of a bare TLS alert.
    unsigned char first = 0;
    ssize_t n = ::recv(fd_, &first, 1, MSG_PEEK);
    if (n == 0) return Io::eof;
    if (n < 0) {
      if (errno == EINTR || would_block(errno)) return Io::would_block;
      return Io::failed;
    }
    tls_checked_ = true;
    if (first != 0x16) {
      ssl_.reset();
      plaintext_on_tls_ = true;
      return receive(data, size, received);
    }
  }
  want_read_ = want_write_ = false;
  ERR_clear_error();
  errno = 0;
  int rc = SSL_read_ex(ssl_.get(), data, size, &received);
  return rc == 1 ? Io::done : tls_failure(rc, /*reading=*/true);
}

Connection::Io Connection::send(const iovec* iov, int count, size_t& sent) {
  sent = 0;
  if (!ssl_) {
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(iov);
    message.msg_iovlen = static_cast<size_t>(count);
    while (true) {
      // sendmsg rather than writev: only send* take MSG_NOSIGNAL, and a
      // peer that vanished must cost us EPIPE, not the process.
      ssize_t n = ::sendmsg(fd_, &message, MSG_NOSIGNAL);
      if (n >= 0) {
        sent = static_cast<size_t>(n);
        return Io::done;
      }
      if (errno == EINTR) continue;
      if (would_block(errno)) return Io::would_block;
      spdlog::debug("http: connection {} write failed: {}", id_, std::strerror(errno));
      return Io::failed;
    }
  }
  // One buffer per call: TLS frames records itself. A retry after
  // WANT_WRITE passes the same bytes again, as OpenSSL requires.
  want_read_ = want_write_ = false;
  ERR_clear_error();
  errno = 0;
  int rc = SSL_write_ex(ssl_.get(), iov[0].iov_base, iov[0].iov_len, &sent);
  return rc == 1 ? Io::done : tls_failure(rc, /*reading=*/false);
}

Connection::Io Connection::tls_failure(int rc, bool reading) {
  const char* op = reading ? "read" : "write";
  switch (SSL_get_error(ssl_.get(), rc)) {
    case SSL_ERROR_WANT_READ:
      want_read_ = true;
      return Io::would_block;
    case SSL_ERROR_WANT_WRITE:
      want_write_ = true;
      return Io::would_block;
    case SSL_ERROR_ZERO_RETURN:  // close_notify
      if (reading) return Io::eof;
      break;
    case SSL_ERROR_SYSCALL:
      // A peer that closed without close_notify is EOF, as on plain TCP.
      if (reading && errno == 0) return Io::eof;
      if (errno != 0) {
        spdlog::debug("http: connection {} TLS {} failed: {}", id_, op, std::strerror(errno));
        ERR_clear_error();
        return Io::failed;
      }
      break;
    default:
      break;
  }
  // Handshake failures land here: wrong protocol, no or rejected client
  // certificate, no shared cipher. Debug only: any scanner causes them.
  spdlog::debug("http: connection {} TLS {} failed: {}", id_, op, take_openssl_errors());
  return Io::failed;
}

bool Connection::tls_buffered() const { return ssl_ && SSL_pending(ssl_.get()) > 0; }

void Connection::check_deadline(Clock::time_point now) {
  switch (state_) {
    case State::reading:
    case State::authenticating:
    case State::writing:
      if (now - timer_start_ >= context_.idle_timeout) {
        spdlog::debug("http: connection {} idle timeout ({})", id_,
                      state_ == State::reading ? "request" : "response");
        if (state_ == State::writing) {
          // A client that stopped reading would otherwise keep megabytes
          // of unsent body in the kernel long after we let go: reset.
          linger reset{.l_onoff = 1, .l_linger = 0};
          ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        }
        close();
      }
      return;
    case State::draining:
      if (now >= linger_deadline_) close();
      return;
    case State::closed:
      return;
  }
}

void Connection::read_input() {
  // Twice the limit plus one read is all parse_request needs to reach a
  // verdict (head and body are each capped), so a flood cannot grow the
  // buffer without bound; the rest waits in the kernel.
  const size_t cap = 2 * context_.max_header_bytes + 1;
  while (input_.size() <= cap) {
    size_t old_size = input_.size();
    input_.resize(old_size + kReadChunk);
    size_t n = 0;
    Io io = receive(input_.data() + old_size, kReadChunk, n);
    input_.resize(old_size + n);
    switch (io) {
      case Io::done:
        continue;
      case Io::eof:
        peer_eof_ = true;
        return;
      case Io::would_block:
        return;
      case Io::failed:
        close();
        return;
    }
  }
}

void Connection::process(Clock::time_point now) {
  // One request at a time: while a response is queued nothing more is
  // parsed, which keeps pipelined answers in order and memory bounded.
  while (state_ == State::reading) {
    if (plaintext_on_tls_) {
      input_.clear();
      respond(Response::text(400, "Client sent an HTTP request to an HTTPS server.\n"), false, true, false, now);
      return;
    }
    if (input_.empty()) {
      if (peer_eof_) close();
      return;
    }
    ParseResult parsed = parse_request(input_, context_.max_header_bytes);
    switch (parsed.status) {
      case ParseStatus::incomplete:
        if (tls_buffered()) {
          read_input();  // the rest may already be decrypted
          if (state_ == State::reading) continue;
          return;
        }
        if (peer_eof_) close();  // truncated request: nobody to answer
        return;
      case ParseStatus::complete: {
        input_.erase(0, parsed.consumed);
        Request& request = parsed.request;
        bool head_only = request.method == "HEAD";
        bool close = !request.keep_alive();
        bool announce = !close && request.version_minor == 0;
        if (context_.auth != nullptr && context_.auth->enabled()) {
          auto header = request.header("authorization");
          auto credentials = header ? parse_basic_authorization(*header) : std::nullopt;
          if (!credentials) {
            respond_unauthorized(head_only, close, announce, now);
            break;
          }
          switch (context_.auth->check(id_, peer_, *credentials)) {
            case Authenticator::Verdict::allowed:
              break;
            case Authenticator::Verdict::denied:
              respond_unauthorized(head_only, close, announce, now);
              continue;
            case Authenticator::Verdict::busy: {
              Response busy = Response::text(503, "too many authentication checks in progress\n");
              busy.headers.emplace_back("Retry-After", "1");
              respond(std::move(busy), head_only, close, announce, now);
              continue;
            }
            case Authenticator::Verdict::pending:
              pending_ = Pending{std::move(request), head_only, close, announce};
              state_ = State::authenticating;
              return;
          }
        }
        serve(request, head_only, close, announce, now);
        break;
      }
      case ParseStatus::bad_request:
        respond_error(400, now);
        break;
      case ParseStatus::too_large:
        respond_error(431, now);
        break;
      case ParseStatus::unsupported_version:
        respond_error(505, now);
        break;
    }
  }
}

void Connection::serve(const Request& request, bool head_only, bool close, bool announce,
                       Clock::time_point now) {
  const bool post_path = context_.post_paths &&
                         std::find(context_.post_paths->begin(), context_.post_paths->end(),
                                   request.path) != context_.post_paths->end();
  if (request.method == "GET" || head_only || (post_path && request.method == "POST")) {
    respond(call_handler(request), head_only, close, announce, now);
  } else {
    Response response = Response::text(405, "method not allowed\n");
    response.headers.emplace_back("Allow", post_path ? "POST" : "GET, HEAD");
    respond(std::move(response), false, close, announce, now);
  }
}

void Connection::respond_unauthorized(bool head_only, bool close, bool announce, Clock::time_point now) {
  Response response = Response::text(401, "Unauthorized\n");
  response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"klag-exporter\", charset=\"UTF-8\"");
  respond(std::move(response), head_only, close, announce, now);
}

void Connection::on_auth_result(bool allowed, Clock::time_point now) {
  if (state_ != State::authenticating || !pending_) return;
  Pending pending = std::move(*pending_);
  pending_.reset();
  state_ = State::reading;
  if (allowed) {
    serve(pending.request, pending.head_only, pending.close, pending.announce, now);
  } else {
    respond_unauthorized(pending.head_only, pending.close, pending.announce, now);
  }
  if (state_ == State::reading) process(now);  // pipelined requests
}

Response Connection::call_handler(const Request& request) {
  try {
    return (*context_.handler)(request);
  } catch (const std::exception& e) {
    spdlog::warn("http: handler for {} {} threw: {}", request.method, request.path, e.what());
  } catch (...) {
    spdlog::warn("http: handler for {} {} threw a non-standard exception", request.method,
                 request.path);
  }
  return Response::text(500, "internal server error\n");
}

void Connection::respond_error(int status, Clock::time_point now) {
  spdlog::debug("http: connection {} rejected request with {}", id_, status);
  input_.clear();
  std::string body(reason_phrase(status));
  body += '\n';
  respond(Response::text(status, std::move(body)), false, true, false, now);
}

void Connection::respond(Response response, bool head_only, bool close, bool announce_keep_alive,
                         Clock::time_point now) {
  size_t length = response.stream ? response.stream->size() : response.body ? response.body->size() : 0;
  if (status_forbids_body(response.status)) length = 0;
  if (context_.extra_headers != nullptr) {
    for (const auto& header : *context_.extra_headers) response.headers.push_back(header);
  }
  HeadOptions options{.content_length = length, .close = close,
                      .announce_keep_alive = announce_keep_alive};
  Outgoing out;
  out.head = render_head(response, options);
  if (!head_only && length > 0) {
    out.body = std::move(response.body);
    out.stream = std::move(response.stream);
    out.body_length = length;
  }
  out_ = std::move(out);
  close_after_write_ = close;
  state_ = State::writing;
  timer_start_ = now;
  flush(now);
}

bool Connection::next_piece() {
  // Called once the head is sent or while its rest goes out with the piece.
  const size_t body_offset = out_->sent > out_->head.size() ? out_->sent - out_->head.size() : 0;
  std::string_view piece;
  try {
    piece = out_->stream->next();
  } catch (const std::exception& e) {
    spdlog::warn("http: connection {}: response body failed after {} bytes: {}", id_, body_offset, e.what());
    return false;
  }
  if (piece.empty()) {
    spdlog::warn("http: connection {}: response body ended after {} of {} bytes", id_, body_offset,
                 out_->body_length);
    return false;
  }
  out_->piece = piece.substr(0, out_->body_length - body_offset);
  return true;
}

void Connection::flush(Clock::time_point now) {
  // A streamed body is made as it goes out: a bounded number of pieces per
  // call keeps one fast reader from holding up the other connections (the
  // socket is level-triggered, so EPOLLOUT brings us back).
  int pieces = 0;
  while (out_) {
    const size_t head_length = out_->head.size();
    const size_t total = head_length + out_->body_length;
    if (out_->sent >= total) break;
    iovec iov[2];
    int count = 0;
    if (out_->sent < head_length) {
      iov[count++] = {out_->head.data() + out_->sent, head_length - out_->sent};
    }
    size_t body_offset = out_->sent > head_length ? out_->sent - head_length : 0;
    if (body_offset < out_->body_length && out_->stream) {
      if (out_->piece.empty()) {
        if (pieces++ == kMaxPiecesPerFlush) return;
        if (!next_piece()) {
          close();
          return;
        }
      }
      iov[count++] = {const_cast<char*>(out_->piece.data()), out_->piece.size()};
    } else if (body_offset < out_->body_length) {
      // sendmsg takes a non-const iovec but never writes through it.
      iov[count++] = {const_cast<char*>(out_->body->data()) + body_offset,
                      out_->body_length - body_offset};
    }
    size_t n = 0;
    switch (send(iov, count, n)) {
      case Io::done:
        break;
      case Io::would_block:
        return;  // epoll resumes us
      case Io::eof:
      case Io::failed:
        close();
        return;
    }
    if (out_->stream) {
      const size_t head_part = out_->sent < head_length ? std::min(n, head_length - out_->sent) : 0;
      out_->piece.remove_prefix(n - head_part);
    }
    out_->sent += n;
    timer_start_ = now;
  }
  out_.reset();
  if (close_after_write_) {
    begin_linger(now);
    return;
  }
  state_ = State::reading;
  timer_start_ = now;
}

void Connection::begin_linger(Clock::time_point now) {
  input_.clear();
  if (peer_eof_) {
    close();
    return;
  }
  // Closing with unread input would make the kernel send RST, which can
  // destroy our final response (say a 431) before the client reads it. So
  // shut only our side and swallow input until the client closes or the
  // linger time runs out. TLS says goodbye first (best effort: a full send
  // buffer just loses the close_notify).
  if (ssl_) {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
  }
  ::shutdown(fd_, SHUT_WR);
  state_ = State::draining;
  linger_deadline_ = now + context_.linger_timeout;
  drain();
}

void Connection::drain() {
  char scratch[kReadChunk];
  for (int i = 0; i < kMaxDrainReadsPerEvent; ++i) {
    size_t n = 0;
    switch (receive(scratch, sizeof scratch, n)) {
      case Io::done:
        continue;
      case Io::would_block:
        return;
      case Io::eof:
      case Io::failed:
        close();  // the client is done
        return;
    }
  }
}

void Connection::close() {
  if (state_ == State::authenticating && context_.auth != nullptr) context_.auth->cancel(id_);
  if (state_ != State::closed) spdlog::debug("http: connection {} closed", id_);
  state_ = State::closed;
  out_.reset();
  pending_.reset();
  input_.clear();
  input_.shrink_to_fit();
}

}  // namespace klag::http::detail
