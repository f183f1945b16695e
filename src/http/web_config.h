// The web config file (`--web.config.file`): TLS and basic auth for every
// endpoint, in the YAML format of the Prometheus exporter-toolkit, so one file
// can serve node_exporter and us alike (docs/security.md documents the keys).
//
// Parsing is pure (text in, struct or error out); loading resolves relative
// file paths against the config file's directory, as the toolkit does.
#pragma once

#include <expected>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace klag::http {

// tls_server_config.client_auth_type, named as in Go's crypto/tls.
enum class ClientAuth {
  none,                // NoClientCert
  request,             // RequestClientCert: asked for, neither required nor checked
  require_any,         // RequireAnyClientCert: required, not checked against a CA
  verify_if_given,     // VerifyClientCertIfGiven
  require_and_verify,  // RequireAndVerifyClientCert
};

enum class TlsVersion { tls10, tls11, tls12, tls13 };

struct TlsServerConfig {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  std::filesystem::path client_ca_file;  // empty: none
  ClientAuth client_auth = ClientAuth::none;
  TlsVersion min_version = TlsVersion::tls12;
  TlsVersion max_version = TlsVersion::tls13;
  // IANA names ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), TLS 1.2 and older
  // only, as in Go; empty: OpenSSL's defaults.
  std::vector<std::string> cipher_suites;
  // OpenSSL group names, translated from the toolkit's ("CurveP256" ->
  // "P-256"); empty: OpenSSL's defaults.
  std::vector<std::string> curve_preferences;
  bool prefer_server_cipher_suites = true;
  // When set, a client certificate must carry one of these subject
  // alternative names (DNS, e-mail, IP or URI), compared exactly.
  std::vector<std::string> client_allowed_sans;
};

struct WebConfig {
  bool tls_enabled = false;  // false: plain HTTP (tls is then unused)
  TlsServerConfig tls;
  // user -> bcrypt hash ($2a$, $2b$ or $2y$); empty: no authentication.
  std::map<std::string, std::string> basic_auth_users;
  // http_server_config.headers: added to every response.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Parses the YAML text. Errors name the key ("tls_server_config.min_version:
// ...") and never echo a password hash. Relative paths are resolved against
// `base_dir`.
std::expected<WebConfig, std::string> parse_web_config(std::string_view yaml,
                                                       const std::filesystem::path& base_dir);

// Reads and parses the file; errors start with its path.
std::expected<WebConfig, std::string> load_web_config(const std::filesystem::path& file);

// The files a web config depends on (itself, certificate, key, CA), for
// change detection.
std::vector<std::filesystem::path> web_config_files(const std::filesystem::path& file,
                                                     const WebConfig& config);

}  // namespace klag::http
