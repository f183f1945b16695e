// The web config parser: the exporter-toolkit keys, their defaults, and
// errors that name the key without echoing secrets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "http/web_config.h"

namespace klag::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kHash = "$2b$04$WKK7Dohyzbdqv1UrBdU9L.7upHxVMdU2y/MqY2KyJZ743DvWRUTEC";

std::string error_of(std::string_view yaml) {
  auto parsed = parse_web_config(yaml, "/etc/klag");
  EXPECT_FALSE(parsed.has_value()) << yaml;
  return parsed ? std::string() : parsed.error();
}

TEST(WebConfigTest, EmptyMeansPlainHttpWithoutAuth) {
  for (std::string_view text : {"", "# nothing\n", "tls_server_config:\nbasic_auth_users:\n"}) {
    auto parsed = parse_web_config(text, "/etc/klag");
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_FALSE(parsed->tls_enabled);
    EXPECT_TRUE(parsed->basic_auth_users.empty());
    EXPECT_TRUE(parsed->headers.empty());
  }
}

TEST(WebConfigTest, FullConfigParses) {
  auto parsed = parse_web_config(std::string(R"(
tls_server_config:
  cert_file: tls/server.pem
  key_file: /abs/server.key
  client_ca_file: ca.pem
  client_auth_type: RequireAndVerifyClientCert
  min_version: TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
  curve_preferences: [CurveP256, X25519]
  prefer_server_cipher_suites: false
  client_allowed_sans: [prometheus.example.com]
http_server_config:
  http2: true
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  prometheus: ')") + kHash + "'\n",
                                 "/etc/klag");
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_TRUE(parsed->tls_enabled);
  const TlsServerConfig& tls = parsed->tls;
  EXPECT_EQ(tls.cert_file, "/etc/klag/tls/server.pem");  // relative to the file's directory
  EXPECT_EQ(tls.key_file, "/abs/server.key");
  EXPECT_EQ(tls.client_ca_file, "/etc/klag/ca.pem");
  EXPECT_EQ(tls.client_auth, ClientAuth::require_and_verify);
  EXPECT_EQ(tls.min_version, TlsVersion::tls13);
  EXPECT_EQ(tls.max_version, TlsVersion::tls13);
  EXPECT_THAT(tls.cipher_suites, ::testing::ElementsAre("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
  EXPECT_THAT(tls.curve_preferences, ::testing::ElementsAre("P-256", "X25519"));
  EXPECT_FALSE(tls.prefer_server_cipher_suites);
  EXPECT_THAT(tls.client_allowed_sans, ::testing::ElementsAre("prometheus.example.com"));
  EXPECT_THAT(parsed->headers,
              ::testing::ElementsAre(std::pair<std::string, std::string>("X-Frame-Options", "deny"),
                                     std::pair<std::string, std::string>("Strict-Transport-Security",
                                                                         "max-age=31536000")));
  ASSERT_EQ(parsed->basic_auth_users.count("prometheus"), 1u);
  EXPECT_EQ(parsed->basic_auth_users.at("prometheus"), kHash);
}

TEST(WebConfigTest, DefaultsFollowTheToolkit) {
  auto parsed = parse_web_config("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n", "d");
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->tls.client_auth, ClientAuth::none);
  EXPECT_EQ(parsed->tls.min_version, TlsVersion::tls12);
  EXPECT_EQ(parsed->tls.max_version, TlsVersion::tls13);
  EXPECT_TRUE(parsed->tls.prefer_server_cipher_suites);
  // The toolkit's alias; a CA with an auth type that does not verify is
  // allowed (it is only sent as a hint).
  auto alias = parse_web_config("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n"
                                "  client_auth_type: RequireClientCert\n  client_ca_file: ca.pem\n", "d");
  ASSERT_TRUE(alias) << alias.error();
  EXPECT_EQ(alias->tls.client_auth, ClientAuth::require_any);
}

TEST(WebConfigTest, ErrorsNameTheKey) {
  EXPECT_THAT(error_of("tls_config: {}\n"), HasSubstr("tls_config: unknown key"));
  EXPECT_THAT(error_of("tls_server_config:\n  certfile: x\n"),
              HasSubstr("tls_server_config.certfile: unknown key"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS14\n"),
              HasSubstr("tls_server_config.min_version: unknown TLS version \"TLS14\""));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: c\n"),
              HasSubstr("tls_server_config.key_file: required"));
  EXPECT_THAT(error_of("tls_server_config:\n  key_file: k\n"),
              HasSubstr("tls_server_config.cert_file: required"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: c\n  key_file: k\n"
                       "  client_auth_type: RequireAndVerifyClientCert\n"),
              HasSubstr("tls_server_config.client_ca_file: required"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: Sometimes\n"),
              HasSubstr("tls_server_config.client_auth_type: unknown client auth type"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: c\n  key_file: k\n  curve_preferences: [P256]\n"),
              HasSubstr("tls_server_config.curve_preferences[0]: unknown curve"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS13\n"
                       "  max_version: TLS12\n"),
              HasSubstr("tls_server_config.min_version: is higher than max_version"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_allowed_sans: [a]\n"),
              HasSubstr("tls_server_config.client_allowed_sans"));
  // A client without a certificate would skip the SAN check.
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_ca_file: ca\n"
                       "  client_auth_type: VerifyClientCertIfGiven\n  client_allowed_sans: [a]\n"),
              HasSubstr("tls_server_config.client_allowed_sans: needs client_auth_type"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_ca_file: ca\n"),
              HasSubstr("tls_server_config.client_auth_type: client_ca_file is set without a client auth policy"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS10\n"),
              HasSubstr("tls_server_config.min_version: TLS10 is not supported"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert: |\n    -----BEGIN CERTIFICATE-----\n"),
              HasSubstr("tls_server_config.cert: inline PEM is not supported"));
  EXPECT_THAT(error_of("rate_limit:\n  burst: 10\n"), HasSubstr("rate_limit: request rate limiting is not supported"));
  EXPECT_THAT(error_of("http_server_config:\n  headers:\n    x-frame-options: deny\n"),
              HasSubstr("http_server_config.headers.x-frame-options: not a header"));
  EXPECT_THAT(error_of("http_server_config:\n  headers:\n    X-Frame-Options: allow-from x\n"),
              HasSubstr("http_server_config.headers.X-Frame-Options: must be deny or sameorigin"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: [a, b]\n  key_file: k\n"),
              HasSubstr("tls_server_config.cert_file: expected a string"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: c\n  key_file: k\n"
                       "  prefer_server_cipher_suites: maybe\n"),
              HasSubstr("tls_server_config.prefer_server_cipher_suites: expected true or false"));
  EXPECT_THAT(error_of("http_server_config:\n  headers:\n    Set-Cookie: a=b\n"),
              HasSubstr("http_server_config.headers.Set-Cookie: not a header"));
  EXPECT_THAT(error_of("http_server_config:\n  http3: true\n"), HasSubstr("http_server_config.http3: unknown key"));
  EXPECT_THAT(error_of("- a\n- b\n"), HasSubstr("expected a YAML map"));
  EXPECT_THAT(error_of("basic_auth_users: [a]\n"), HasSubstr("basic_auth_users: expected a map"));
}

TEST(WebConfigTest, BadHashIsReportedWithoutEchoingIt) {
  const std::string secretish = "plaintext-password-oops";
  std::string error = error_of("basic_auth_users:\n  alice: " + secretish + "\n");
  EXPECT_THAT(error, HasSubstr("basic_auth_users.alice: not a bcrypt hash"));
  EXPECT_THAT(error, Not(HasSubstr(secretish)));
  // Near misses: wrong variant, wrong length, bad cost.
  std::string hash = kHash;
  for (std::string bad : {"$2x" + hash.substr(3), hash.substr(0, 59), "$2b$99" + hash.substr(6),
                          "$2b$03" + hash.substr(6)}) {
    EXPECT_THAT(error_of("basic_auth_users:\n  alice: '" + bad + "'\n"), HasSubstr("not a bcrypt hash"));
  }
  EXPECT_THAT(error_of(std::string("basic_auth_users:\n  'a:b': '") + kHash + "'\n"),
              HasSubstr("contain no ':'"));
}

TEST(WebConfigTest, DuplicateKeysAreErrors) {
  // yaml-cpp would keep the first: an empty first section would silently
  // drop the users of the second.
  EXPECT_THAT(error_of(std::string("basic_auth_users:\nbasic_auth_users:\n  a: '") + kHash + "'\n"),
              HasSubstr("basic_auth_users: duplicate key"));
  EXPECT_THAT(error_of(std::string("basic_auth_users:\n  a: '") + kHash + "'\n  a: '" + kHash + "'\n"),
              HasSubstr("basic_auth_users.a: duplicate key"));
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: a\n  cert_file: b\n  key_file: k\n"),
              HasSubstr("tls_server_config.cert_file: duplicate key"));
}

TEST(WebConfigTest, HeaderValuesCannotInjectLines) {
  EXPECT_THAT(error_of("http_server_config:\n  headers:\n    X-Frame-Options: \"deny\\r\\nX-Evil: 1\"\n"),
              HasSubstr("without control characters"));
}

TEST(WebConfigTest, InvalidYamlGivesLineAndColumn) {
  EXPECT_THAT(error_of("tls_server_config:\n  cert_file: [unclosed\n"), HasSubstr("invalid YAML at line"));
}

TEST(WebConfigTest, LoadResolvesPathsAgainstTheFileAndListsItsFiles) {
  const auto dir = std::filesystem::temp_directory_path() / ("klag-web-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "web.yml";
  std::ofstream(file) << "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n  client_ca_file: ca.pem\n"
                          "  client_auth_type: RequireAndVerifyClientCert\n";
  auto loaded = load_web_config(file);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->tls.cert_file, dir / "c.pem");
  EXPECT_THAT(web_config_files(file, *loaded),
              ::testing::ElementsAre(file, dir / "c.pem", dir / "k.pem", dir / "ca.pem"));
  std::filesystem::remove_all(dir);
  auto missing = load_web_config(file);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error(), HasSubstr(file.string() + ": cannot be read"));
}

}  // namespace
}  // namespace klag::http
