#include "http/connection.h"

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

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

}  // namespace

Connection::Connection(int fd, uint64_t id, const ConnectionContext& context, Clock::time_point now)
    : fd_(fd), id_(id), context_(context), timer_start_(now) {}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

uint32_t Connection::wanted_events() const {
  switch (state_) {
    case State::reading:
    case State::draining:
      return EPOLLIN;
    case State::writing:
      return EPOLLOUT;
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
    case State::writing:
      flush(now);
      break;
    case State::reading:
      read_input();
      break;
    case State::closed:
      return;
  }
  process(now);
}

void Connection::check_deadline(Clock::time_point now) {
  switch (state_) {
    case State::reading:
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
    ssize_t n = ::recv(fd_, input_.data() + old_size, kReadChunk, 0);
    input_.resize(old_size + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n > 0) continue;
    if (n == 0) {
      peer_eof_ = true;
      return;
    }
    if (errno == EINTR) continue;
    if (!would_block(errno)) {
      spdlog::debug("http: connection {} read failed: {}", id_, std::strerror(errno));
      close();
    }
    return;
  }
}

void Connection::process(Clock::time_point now) {
  // One request at a time: while a response is queued nothing more is
  // parsed, which keeps pipelined answers in order and memory bounded.
  while (state_ == State::reading) {
    if (input_.empty()) {
      if (peer_eof_) close();
      return;
    }
    ParseResult parsed = parse_request(input_, context_.max_header_bytes);
    switch (parsed.status) {
      case ParseStatus::incomplete:
        if (peer_eof_) close();  // truncated request: nobody to answer
        return;
      case ParseStatus::complete: {
        input_.erase(0, parsed.consumed);
        const Request& request = parsed.request;
        bool head_only = request.method == "HEAD";
        bool close = !request.keep_alive();
        bool announce = !close && request.version_minor == 0;
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
  size_t length = response.body ? response.body->size() : 0;
  if (status_forbids_body(response.status)) length = 0;
  HeadOptions options{.content_length = length, .close = close,
                      .announce_keep_alive = announce_keep_alive};
  Outgoing out;
  out.head = render_head(response, options);
  if (!head_only && length > 0) {
    out.body = std::move(response.body);
    out.body_length = length;
  }
  out_ = std::move(out);
  close_after_write_ = close;
  state_ = State::writing;
  timer_start_ = now;
  flush(now);
}

void Connection::flush(Clock::time_point now) {
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
    if (body_offset < out_->body_length) {
      // sendmsg takes a non-const iovec but never writes through it.
      iov[count++] = {const_cast<char*>(out_->body->data()) + body_offset,
                      out_->body_length - body_offset};
    }
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = static_cast<size_t>(count);
    // sendmsg rather than writev: only send* take MSG_NOSIGNAL, and a peer
    // that vanished must cost us EPIPE, not the process.
    ssize_t n = ::sendmsg(fd_, &message, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (would_block(errno)) return;  // EPOLLOUT resumes us
      spdlog::debug("http: connection {} write failed: {}", id_, std::strerror(errno));
      close();
      return;
    }
    out_->sent += static_cast<size_t>(n);
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
  // linger time runs out.
  ::shutdown(fd_, SHUT_WR);
  state_ = State::draining;
  linger_deadline_ = now + context_.linger_timeout;
  drain();
}

void Connection::drain() {
  char scratch[kReadChunk];
  for (int i = 0; i < kMaxDrainReadsPerEvent; ++i) {
    ssize_t n = ::recv(fd_, scratch, sizeof scratch, 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && would_block(errno)) return;
    close();  // EOF or error: the client is done
    return;
  }
}

void Connection::close() {
  if (state_ != State::closed) spdlog::debug("http: connection {} closed", id_);
  state_ = State::closed;
  out_.reset();
  input_.clear();
  input_.shrink_to_fit();
}

}  // namespace klag::http::detail
