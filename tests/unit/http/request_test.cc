#include "http/request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

namespace klag::http {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

constexpr size_t kLimit = 1024;

ParseResult parse(std::string_view input, size_t limit = kLimit) { return parse_request(input, limit); }

Request parse_ok(std::string_view input) {
  ParseResult result = parse(input);
  EXPECT_EQ(result.status, ParseStatus::complete) << input;
  EXPECT_EQ(result.consumed, input.size()) << input;
  return result.request;
}

Request with_headers(std::string_view version, std::string_view header_lines) {
  std::string input = "GET / " + std::string(version) + "\r\n" + std::string(header_lines) + "\r\n";
  return parse_ok(input);
}

TEST(ParseRequest, SimpleGet) {
  Request r = parse_ok("GET /metrics HTTP/1.1\r\nHost: localhost:8000\r\n\r\n");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/metrics");
  EXPECT_EQ(r.path, "/metrics");
  EXPECT_EQ(r.query, "");
  EXPECT_EQ(r.version_minor, 1);
  EXPECT_THAT(r.headers, ElementsAre(Pair("host", "localhost:8000")));
}

TEST(ParseRequest, NoHeadersAndHttp10) {
  Request r = parse_ok("HEAD / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.method, "HEAD");
  EXPECT_EQ(r.path, "/");
  EXPECT_EQ(r.version_minor, 0);
  EXPECT_TRUE(r.headers.empty());
}

TEST(ParseRequest, QuerySplitAtFirstQuestionMark) {
  Request r = parse_ok("GET /metrics?name[]=a&x=1?2 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.target, "/metrics?name[]=a&x=1?2");
  EXPECT_EQ(r.path, "/metrics");
  EXPECT_EQ(r.query, "name[]=a&x=1?2");

  Request empty_query = parse_ok("GET /health? HTTP/1.1\r\n\r\n");
  EXPECT_EQ(empty_query.path, "/health");
  EXPECT_EQ(empty_query.query, "");
}

TEST(ParseRequest, PathIsNotPercentDecoded) {
  Request r = parse_ok("GET /a%20b HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.path, "/a%20b");
}

TEST(ParseRequest, AbsoluteFormReducedToPath) {
  Request r = parse_ok("GET http://example.com:8000/metrics?a=b HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.target, "http://example.com:8000/metrics?a=b");
  EXPECT_EQ(r.path, "/metrics");
  EXPECT_EQ(r.query, "a=b");
  EXPECT_EQ(parse_ok("GET HTTPS://example.com HTTP/1.1\r\n\r\n").path, "/");
  EXPECT_EQ(parse(std::string_view("GET http:///x HTTP/1.1\r\n\r\n")).status, ParseStatus::bad_request);
}

TEST(ParseRequest, AsteriskOnlyForOptions) {
  Request r = parse_ok("OPTIONS * HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.method, "OPTIONS");
  EXPECT_EQ(r.path, "*");
  EXPECT_EQ(parse("GET * HTTP/1.1\r\n\r\n").status, ParseStatus::bad_request);
}

TEST(ParseRequest, HeadersLowerCasedTrimmedAndLookedUpCaseInsensitively) {
  Request r = parse_ok(
      "GET / HTTP/1.1\r\nHOST:  example.com \t\r\nX-Custom-Thing:v1\r\nx-custom-thing: v2\r\n"
      "Empty:\r\n\r\n");
  EXPECT_THAT(r.headers, ElementsAre(Pair("host", "example.com"), Pair("x-custom-thing", "v1"),
                                     Pair("x-custom-thing", "v2"), Pair("empty", "")));
  EXPECT_EQ(r.header("host"), "example.com");
  EXPECT_EQ(r.header("Host"), "example.com");
  EXPECT_EQ(r.header("x-custom-thing"), "v1");  // the first one
  EXPECT_EQ(r.header("empty"), "");
  EXPECT_EQ(r.header("missing"), std::nullopt);
}

TEST(ParseRequest, BareLineFeedsAccepted) {
  Request r = parse_ok("GET /x HTTP/1.1\nHost: a\n\n");
  EXPECT_EQ(r.path, "/x");
  EXPECT_EQ(r.header("host"), "a");
}

TEST(ParseRequest, LeadingEmptyLinesIgnored) {
  Request r = parse_ok("\r\n\nGET /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.path, "/x");
}

TEST(ParseRequest, KeepAliveRules) {
  EXPECT_TRUE(with_headers("HTTP/1.1", "").keep_alive());
  EXPECT_FALSE(with_headers("HTTP/1.1", "Connection: close\r\n").keep_alive());
  EXPECT_FALSE(with_headers("HTTP/1.1", "Connection: Upgrade, CLOSE\r\n").keep_alive());
  EXPECT_TRUE(with_headers("HTTP/1.1", "Connection: keep-alive\r\n").keep_alive());
  EXPECT_TRUE(with_headers("HTTP/1.1", "Connection: closed\r\n").keep_alive());
  EXPECT_FALSE(with_headers("HTTP/1.0", "").keep_alive());
  EXPECT_TRUE(with_headers("HTTP/1.0", "Connection: Keep-Alive\r\n").keep_alive());
  EXPECT_TRUE(with_headers("HTTP/1.0", "Connection: foo,keep-alive\r\n").keep_alive());
  EXPECT_FALSE(with_headers("HTTP/1.0", "Connection: keep-alive\r\nConnection: close\r\n").keep_alive());
}

TEST(ParseRequest, AcceptsGzip) {
  EXPECT_TRUE(with_headers("HTTP/1.1", "Accept-Encoding: gzip\r\n").accepts_gzip());
  EXPECT_TRUE(with_headers("HTTP/1.1", "Accept-Encoding: deflate, gzip;q=0.5\r\n").accepts_gzip());
  EXPECT_TRUE(with_headers("HTTP/1.1", "Accept-Encoding: GZIP ; Q=1.0\r\n").accepts_gzip());
  EXPECT_TRUE(with_headers("HTTP/1.1", "Accept-Encoding: x-gzip\r\n").accepts_gzip());
  EXPECT_TRUE(with_headers("HTTP/1.1", "Accept-Encoding: *\r\n").accepts_gzip());
  EXPECT_TRUE(with_headers("HTTP/1.1", "Accept-Encoding: br\r\nAccept-Encoding: gzip\r\n").accepts_gzip());
  EXPECT_FALSE(with_headers("HTTP/1.1", "Accept-Encoding: gzip;q=0\r\n").accepts_gzip());
  EXPECT_FALSE(with_headers("HTTP/1.1", "Accept-Encoding: gzip;q=0.000\r\n").accepts_gzip());
  EXPECT_FALSE(with_headers("HTTP/1.1", "Accept-Encoding: gzip;q=0, *\r\n").accepts_gzip());
  EXPECT_FALSE(with_headers("HTTP/1.1", "Accept-Encoding: *;q=0\r\n").accepts_gzip());
  EXPECT_FALSE(with_headers("HTTP/1.1", "Accept-Encoding: identity\r\n").accepts_gzip());
  EXPECT_FALSE(with_headers("HTTP/1.1", "Accept-Encoding: gzipx, xgzip\r\n").accepts_gzip());
  EXPECT_FALSE(with_headers("HTTP/1.1", "").accepts_gzip());
}

TEST(ParseRequest, EveryStrictPrefixIsIncomplete) {
  const std::string full =
      "GET /metrics?x=1 HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n";
  for (size_t n = 0; n < full.size(); ++n) {
    ParseResult result = parse(std::string_view(full).substr(0, n));
    EXPECT_EQ(result.status, ParseStatus::incomplete) << "prefix of " << n << " bytes";
  }
  EXPECT_EQ(parse(full).status, ParseStatus::complete);
}

TEST(ParseRequest, ImpossibleMethodRejectedBeforeTheLineEnds) {
  // A TLS ClientHello or binary junk on the plain port gets its 400 at
  // once, not after the idle timeout.
  EXPECT_EQ(parse(std::string_view("\x16\x03\x01\x02\x00", 5)).status, ParseStatus::bad_request);
  EXPECT_EQ(parse("G\x01").status, ParseStatus::bad_request);
  EXPECT_EQ(parse("GET\t/").status, ParseStatus::bad_request);
  // Still possible: keep waiting.
  for (std::string_view partial : {"", "G", "GET", "GET ", "GET /x\x01", "\r", "\r\n", "\r\nGE", "GET\r"}) {
    EXPECT_EQ(parse(partial).status, ParseStatus::incomplete) << partial;
  }
}

TEST(ParseRequest, PipelinedRequestsConsumedOneByOne) {
  const std::string first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string second = "HEAD /b HTTP/1.1\r\n\r\n";
  const std::string both = first + second;
  ParseResult r1 = parse(both);
  ASSERT_EQ(r1.status, ParseStatus::complete);
  EXPECT_EQ(r1.consumed, first.size());
  EXPECT_EQ(r1.request.path, "/a");
  ParseResult r2 = parse(std::string_view(both).substr(r1.consumed));
  ASSERT_EQ(r2.status, ParseStatus::complete);
  EXPECT_EQ(r2.consumed, second.size());
  EXPECT_EQ(r2.request.method, "HEAD");
  EXPECT_EQ(r2.request.path, "/b");
}

TEST(ParseRequest, TooLarge) {
  std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n";
  EXPECT_EQ(parse(big).status, ParseStatus::too_large);
  // Decided as soon as the buffer exceeds the limit, before the end arrives.
  EXPECT_EQ(parse(std::string_view(big).substr(0, kLimit + 1)).status, ParseStatus::too_large);
  EXPECT_EQ(parse(std::string_view(big).substr(0, kLimit)).status, ParseStatus::incomplete);
  // A request line without any newline is too large too.
  EXPECT_EQ(parse(std::string(kLimit + 1, 'G')).status, ParseStatus::too_large);
  // Exactly at the limit is fine.
  std::string exact = "GET / HTTP/1.1\r\n\r\n";
  EXPECT_EQ(parse(exact, exact.size()).status, ParseStatus::complete);
  EXPECT_EQ(parse(exact, exact.size() - 1).status, ParseStatus::too_large);
}

TEST(ParseRequest, UnsupportedVersions) {
  EXPECT_EQ(parse("GET / HTTP/2.0\r\n\r\n").status, ParseStatus::unsupported_version);
  EXPECT_EQ(parse("GET / HTTP/1.2\r\n\r\n").status, ParseStatus::unsupported_version);
  EXPECT_EQ(parse("GET / HTTP/0.9\r\n\r\n").status, ParseStatus::unsupported_version);
  EXPECT_EQ(parse("GET / HTTP/3\r\n\r\n").status, ParseStatus::unsupported_version);
  EXPECT_EQ(parse("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").status, ParseStatus::unsupported_version);
  // Decided from the request line alone.
  EXPECT_EQ(parse("PRI * HTTP/2.0\r\n").status, ParseStatus::unsupported_version);
}

TEST(ParseRequest, BadRequestLines) {
  for (std::string_view line : {
           "GET\r\n\r\n",
           "GET /\r\n\r\n",
           "GET  / HTTP/1.1\r\n\r\n",
           "GET /  HTTP/1.1\r\n\r\n",
           "GET / HTTP/1.1 \r\n\r\n",
           " GET / HTTP/1.1\r\n\r\n",
           "GET / http/1.1\r\n\r\n",
           "GET / HTTP/1.x\r\n\r\n",
           "GET / FOO/1.1\r\n\r\n",
           "G(T / HTTP/1.1\r\n\r\n",
           "GET metrics HTTP/1.1\r\n\r\n",
           "GET example.com:80 HTTP/1.1\r\n\r\n",
           "GET /a\tb HTTP/1.1\r\n\r\n",
           "GET /a\x01 HTTP/1.1\r\n\r\n",
           "GET /a\x7f HTTP/1.1\r\n\r\n",
           "GET / HTTP/1.1\r\r\n\r\n",
           "garbage\r\n\r\n",
       }) {
    EXPECT_EQ(parse(line).status, ParseStatus::bad_request) << line;
  }
  // A NUL byte in the method.
  EXPECT_EQ(parse(std::string_view("G\0T / HTTP/1.1\r\n\r\n", 19)).status, ParseStatus::bad_request);
}

TEST(ParseRequest, BadHeaderLines) {
  for (std::string_view input : {
           "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
           "GET / HTTP/1.1\r\nName : value\r\n\r\n",
           "GET / HTTP/1.1\r\nName\t: value\r\n\r\n",
           "GET / HTTP/1.1\r\n: value\r\n\r\n",
           "GET / HTTP/1.1\r\nA: b\r\n  folded\r\n\r\n",
           "GET / HTTP/1.1\r\nA: b\r\n\tfolded\r\n\r\n",
           "GET / HTTP/1.1\r\nA: b\x01 c\r\n\r\n",
           "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
           "GET / HTTP/1.1\r\nBad(Name): v\r\n\r\n",
       }) {
    EXPECT_EQ(parse(input).status, ParseStatus::bad_request) << input;
  }
  // Rejected as soon as the bad line is complete.
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nNoColon\r\n").status, ParseStatus::bad_request);
}

TEST(ParseRequest, BodyWithContentLengthIsSkipped) {
  const std::string request = "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  const std::string next = "GET /y HTTP/1.1\r\n\r\n";
  ParseResult result = parse(request + next);
  ASSERT_EQ(result.status, ParseStatus::complete);
  EXPECT_EQ(result.consumed, request.size());
  EXPECT_EQ(result.request.method, "POST");
  // Body not yet fully present.
  EXPECT_EQ(parse(std::string_view(request).substr(0, request.size() - 1)).status,
            ParseStatus::incomplete);
  // Zero and identical duplicates are fine.
  EXPECT_EQ(parse_ok("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").path, "/");
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 02\r\n\r\nab").consumed,
            std::string_view("POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 02\r\n\r\nab").size());
}

TEST(ParseRequest, BadContentLength) {
  for (std::string_view input : {
           "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\nab",
           "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n",
           "POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\na",
           "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\na",
           "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
           "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       }) {
    EXPECT_EQ(parse(input).status, ParseStatus::bad_request) << input;
  }
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nContent-Length: 1025\r\n\r\n").status, ParseStatus::too_large);
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n").status,
            ParseStatus::too_large);
}

TEST(ParseRequest, RandomInputsNeverMisbehave) {
  // ASan/UBSan builds turn any out-of-bounds access here into a failure.
  std::mt19937 rng(4242);
  const std::string valid =
      "GET /m?x=1 HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n"
      "Accept-Encoding: gzip;q=0.5\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.0\r\n\r\n";
  for (int round = 0; round < 20000; ++round) {
    std::string input = valid;
    if (round % 3 == 0) {
      input.resize(rng() % 300);
      for (char& c : input) c = static_cast<char>(rng() % 256);
    } else {
      int edits = 1 + static_cast<int>(rng() % 5);
      for (int e = 0; e < edits; ++e) input[rng() % input.size()] = "\r\n :;,?/\0aZ\t="[rng() % 14];
      input.resize(rng() % (input.size() + 1));
    }
    size_t limit = 16 + rng() % 200;
    ParseResult result = parse_request(input, limit);
    if (result.status == ParseStatus::complete) {
      EXPECT_GT(result.consumed, 0u);
      EXPECT_LE(result.consumed, input.size());
      EXPECT_TRUE(result.request.path.starts_with('/') || result.request.path == "*");
      (void)result.request.keep_alive();
      (void)result.request.accepts_gzip();
    } else {
      EXPECT_EQ(result.consumed, 0u);
    }
    if (result.status == ParseStatus::incomplete) {
      EXPECT_LE(input.size(), limit * 2);
    }
  }
}

}  // namespace
}  // namespace klag::http
