// Request-head parser. Strict where leniency enables request smuggling or
// ambiguity (obs-fold, whitespace before ':', duplicate Content-Length,
// Transfer-Encoding), lenient where it is harmless (bare LF, leading empty
// lines, absolute-form targets).
#include "http/request.h"

#include <cstdint>

namespace klag::http {
namespace {

// Content-Length values longer than this are certainly over any limit; the
// cap also keeps the decimal conversion from overflowing.
constexpr size_t kMaxLengthDigits = 15;

bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(element) for each trimmed, non-empty element of a comma list.
template <typename Fn>
void for_each_list_element(std::string_view list, Fn&& fn) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view element = trim_ows(list.substr(0, comma));
    if (!element.empty()) fn(element);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// RFC 9110 qvalue: "0", "0.", "0.0"... are zero; anything else valid is
// positive. An unparsable weight counts as zero so a garbled preference
// never opts a client into gzip.
bool qvalue_positive(std::string_view q) {
  if (q.empty() || q.size() > 5) return false;
  if (q[0] == '1') {
    for (char c : q.substr(1)) {
      if (c != '.' && c != '0') return false;
    }
    return q.size() == 1 || q[1] == '.';
  }
  if (q[0] != '0') return false;
  if (q.size() == 1) return false;
  if (q[1] != '.') return false;
  bool nonzero = false;
  for (char c : q.substr(2)) {
    if (c < '0' || c > '9') return false;
    if (c != '0') nonzero = true;
  }
  return nonzero;
}

struct Line {
  std::string_view text;  // without the CRLF / LF
  size_t next = 0;        // offset just past the line terminator
};

// The line starting at `pos`, or nothing when its terminator has not
// arrived yet.
std::optional<Line> next_line(std::string_view input, size_t pos) {
  size_t nl = input.find('\n', pos);
  if (nl == std::string_view::npos) return std::nullopt;
  std::string_view text = input.substr(pos, nl - pos);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return Line{text, nl + 1};
}

// Reduces an absolute-form target ("http://host/p?q") to origin form.
std::optional<std::string_view> origin_form(std::string_view target) {
  if (target.front() == '/') return target;
  size_t scheme_len = 0;
  if (istarts_with(target, "http://")) {
    scheme_len = 7;
  } else if (istarts_with(target, "https://")) {
    scheme_len = 8;
  } else {
    return std::nullopt;
  }
  std::string_view rest = target.substr(scheme_len);
  size_t end = rest.find_first_of("/?");
  if (end == 0) return std::nullopt;  // no authority
  if (end == std::string_view::npos) return std::string_view("/");
  return rest.substr(end);
}

ParseStatus parse_request_line(std::string_view line, Request& request) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return ParseStatus::bad_request;
  std::string_view method = line.substr(0, sp1);
  std::string_view rest = line.substr(sp1 + 1);
  size_t sp2 = rest.find(' ');
  if (sp2 == std::string_view::npos) return ParseStatus::bad_request;
  std::string_view target = rest.substr(0, sp2);
  std::string_view version = rest.substr(sp2 + 1);
  if (!is_token(method) || target.empty()) return ParseStatus::bad_request;

  // The version is judged before the target so the HTTP/2 preface
  // ("PRI * HTTP/2.0") is reported as a version problem.
  if (version == "HTTP/1.1") {
    request.version_minor = 1;
  } else if (version == "HTTP/1.0") {
    request.version_minor = 0;
  } else if (version.starts_with("HTTP/") && version.size() > 5 &&
             version.substr(5).find_first_not_of("0123456789.") == std::string_view::npos &&
             version[5] != '.') {
    return ParseStatus::unsupported_version;
  } else {
    return ParseStatus::bad_request;
  }

  for (unsigned char c : target) {
    if (c <= 0x20 || c == 0x7f) return ParseStatus::bad_request;
  }
  std::string_view origin;
  if (target == "*") {
    if (method != "OPTIONS") return ParseStatus::bad_request;
    origin = target;
  } else if (auto reduced = origin_form(target)) {
    origin = *reduced;
  } else {
    return ParseStatus::bad_request;
  }

  request.method.assign(method);
  request.target.assign(target);
  size_t question = origin.find('?');
  request.path.assign(origin.substr(0, question));
  if (question != std::string_view::npos) request.query.assign(origin.substr(question + 1));
  return ParseStatus::complete;
}

ParseStatus parse_header_line(std::string_view line, Request& request) {
  if (line.front() == ' ' || line.front() == '\t') return ParseStatus::bad_request;  // obs-fold
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return ParseStatus::bad_request;
  std::string_view name = line.substr(0, colon);
  if (!is_token(name)) return ParseStatus::bad_request;  // also rejects "Name :"
  std::string_view value = trim_ows(line.substr(colon + 1));
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return ParseStatus::bad_request;
  }
  std::string lower(name);
  for (char& c : lower) c = to_lower(c);
  request.headers.emplace_back(std::move(lower), std::string(value));
  return ParseStatus::complete;
}

// Whether the start of an unfinished request line can still become a valid
// one: the method so far is a token (a final CR may begin the line end).
bool method_prefix_ok(std::string_view partial) {
  size_t space = partial.find(' ');
  std::string_view method = partial.substr(0, space);
  if (space == std::string_view::npos && !method.empty() && method.back() == '\r') method.remove_suffix(1);
  for (unsigned char c : method) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

ParseResult fail(ParseStatus status) {
  ParseResult result;
  result.status = status;
  return result;
}

}  // namespace

std::optional<std::string_view> Request::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (iequals(name, lower_name)) return std::string_view(value);
  }
  return std::nullopt;
}

bool Request::keep_alive() const {
  bool close = false;
  bool keep = false;
  for (const auto& [name, value] : headers) {
    if (name != "connection") continue;
    for_each_list_element(value, [&](std::string_view token) {
      if (iequals(token, "close")) close = true;
      if (iequals(token, "keep-alive")) keep = true;
    });
  }
  if (close) return false;
  return version_minor >= 1 || keep;
}

bool Request::accepts_gzip() const {
  // An explicit gzip entry wins over "*", so "gzip;q=0, *" means no gzip.
  bool explicit_seen = false;
  bool explicit_ok = false;
  bool star_ok = false;
  for (const auto& [name, value] : headers) {
    if (name != "accept-encoding") continue;
    for_each_list_element(value, [&](std::string_view element) {
      size_t semi = element.find(';');
      std::string_view coding = trim_ows(element.substr(0, semi));
      bool positive = true;
      while (semi != std::string_view::npos) {
        element.remove_prefix(semi + 1);
        semi = element.find(';');
        std::string_view param = trim_ows(element.substr(0, semi));
        if (param.size() >= 2 && to_lower(param[0]) == 'q' && param[1] == '=') {
          positive = qvalue_positive(param.substr(2));
        }
      }
      if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
        explicit_seen = true;
        explicit_ok = explicit_ok || positive;
      } else if (coding == "*") {
        star_ok = star_ok || positive;
      }
    });
  }
  return explicit_seen ? explicit_ok : star_ok;
}

ParseResult parse_request(std::string_view input, size_t max_head_bytes) {
  // Beyond the limit with no verdict yet means the head is too large, even
  // if its end is still to come.
  auto starved = [&] {
    return fail(input.size() > max_head_bytes ? ParseStatus::too_large : ParseStatus::incomplete);
  };

  size_t pos = 0;
  // RFC 9112 2.2: ignore empty lines before the request line (some clients
  // send a CRLF after a body).
  while (pos < input.size()) {
    if (input[pos] == '\n') {
      ++pos;
    } else if (input[pos] == '\r' && pos + 1 < input.size() && input[pos + 1] == '\n') {
      pos += 2;
    } else {
      break;
    }
  }

  ParseResult result;
  Request& request = result.request;
  bool have_request_line = false;
  while (true) {
    std::optional<Line> line = next_line(input, pos);
    if (!line) {
      // No need to wait for the end of a request line whose method is
      // already impossible (binary junk, a TLS handshake on the plain port).
      if (!have_request_line && !method_prefix_ok(input.substr(pos))) return fail(ParseStatus::bad_request);
      return starved();
    }
    if (line->next > max_head_bytes) return fail(ParseStatus::too_large);
    pos = line->next;
    if (!have_request_line) {
      ParseStatus status = parse_request_line(line->text, request);
      if (status != ParseStatus::complete) return fail(status);
      have_request_line = true;
      continue;
    }
    if (line->text.empty()) break;  // end of head
    ParseStatus status = parse_header_line(line->text, request);
    if (status != ParseStatus::complete) return fail(status);
  }

  // The body is framed by Content-Length only; chunked bodies are refused
  // rather than half-supported, which is where smuggling bugs live.
  std::optional<uint64_t> content_length;
  for (const auto& [name, value] : request.headers) {
    if (name == "transfer-encoding") return fail(ParseStatus::bad_request);
    if (name != "content-length") continue;
    if (!is_digits(value)) return fail(ParseStatus::bad_request);
    std::string_view digits = value;
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    if (digits.size() > kMaxLengthDigits) return fail(ParseStatus::too_large);
    uint64_t length = 0;
    for (char c : digits) length = length * 10 + static_cast<uint64_t>(c - '0');
    if (content_length && *content_length != length) return fail(ParseStatus::bad_request);
    content_length = length;
  }
  uint64_t body = content_length.value_or(0);
  if (body > max_head_bytes) return fail(ParseStatus::too_large);
  if (input.size() - pos < body) return fail(ParseStatus::incomplete);

  result.status = ParseStatus::complete;
  result.consumed = pos + static_cast<size_t>(body);
  return result;
}

}  // namespace klag::http
