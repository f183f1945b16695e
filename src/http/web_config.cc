#include "http/web_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <optional>
#include <sstream>

namespace klag::http {
namespace {

namespace fs = std::filesystem;

// Thrown inside the parser and turned into the returned error; never
// escapes parse_web_config.
struct ConfigError {
  std::string message;
};

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw ConfigError{key + ": " + what};
}

std::string join(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

// yaml-cpp keeps the first of two equal keys; Go's strict unmarshalling
// rejects them, and silently dropping a second basic_auth_users section
// would be a security bug.
void reject_duplicates(const YAML::Node& map, const std::string& where) {
  std::vector<std::string> seen;
  for (const auto& entry : map) {
    std::string key = entry.first.as<std::string>();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) fail(join(where, key), "duplicate key");
    seen.push_back(std::move(key));
  }
}

// Keys of the toolkit's format this exporter does not implement: named so
// the error says so instead of "unknown".
std::string unsupported_reason(std::string_view key) {
  if (key == "cert" || key == "key" || key == "client_ca") {
    return "inline PEM is not supported by klag-exporter; use the *_file key";
  }
  if (key == "rate_limit") return "request rate limiting is not supported by klag-exporter";
  return {};
}

void check_keys(const YAML::Node& map, const std::string& where,
                std::initializer_list<std::string_view> known) {
  reject_duplicates(map, where);
  for (const auto& entry : map) {
    const std::string key = entry.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      if (std::string reason = unsupported_reason(key); !reason.empty()) fail(join(where, key), reason);
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(where.empty() ? key : where + "." + key, "unknown key (expected one of: " + list + ")");
    }
  }
}

// A map, or an absent/null node (treated as empty).
bool is_map_or_null(const YAML::Node& node) { return !node || node.IsNull() || node.IsMap(); }

std::string scalar(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) fail(key, "expected a string");
  return node.as<std::string>();
}

bool boolean(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) fail(key, "expected true or false");
  try {
    return node.as<bool>();
  } catch (const YAML::Exception&) {
    fail(key, "expected true or false, got \"" + node.as<std::string>() + "\"");
  }
}

std::vector<std::string> string_list(const YAML::Node& node, const std::string& key) {
  std::vector<std::string> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) fail(key, "expected a list of strings");
  for (size_t i = 0; i < node.size(); ++i) {
    out.push_back(scalar(node[i], key + "[" + std::to_string(i) + "]"));
  }
  return out;
}

fs::path resolve(const std::string& value, const fs::path& base_dir) {
  fs::path p(value);
  return p.is_relative() ? base_dir / p : p;
}

TlsVersion tls_version(const std::string& text, const std::string& key) {
  if (text == "TLS12") return TlsVersion::tls12;
  if (text == "TLS13") return TlsVersion::tls13;
  if (text == "TLS10" || text == "TLS11") {
    // OpenSSL 3 refuses them at its default security level: accepting the
    // setting would promise clients a handshake that always fails.
    fail(key, text + " is not supported (OpenSSL 3 refuses TLS 1.0 and 1.1); use TLS12 or TLS13");
  }
  fail(key, "unknown TLS version \"" + text + "\" (expected TLS12 or TLS13)");
}

ClientAuth client_auth(const std::string& text, const std::string& key) {
  static constexpr std::array<std::pair<std::string_view, ClientAuth>, 6> kNames{{
      {"NoClientCert", ClientAuth::none},
      {"RequestClientCert", ClientAuth::request},
      {"RequireAnyClientCert", ClientAuth::require_any},
      {"RequireClientCert", ClientAuth::require_any},  // the toolkit's alias
      {"VerifyClientCertIfGiven", ClientAuth::verify_if_given},
      {"RequireAndVerifyClientCert", ClientAuth::require_and_verify}}};
  for (const auto& [name, value] : kNames) {
    if (text == name) return value;
  }
  fail(key, "unknown client auth type \"" + text +
                "\" (expected NoClientCert, RequestClientCert, RequireAnyClientCert, "
                "VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
}

std::string curve(const std::string& text, const std::string& key) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kNames{{
      {"CurveP256", "P-256"}, {"CurveP384", "P-384"}, {"CurveP521", "P-521"}, {"X25519", "X25519"}}};
  for (const auto& [name, group] : kNames) {
    if (text == name) return std::string(group);
  }
  fail(key, "unknown curve \"" + text + "\" (expected CurveP256, CurveP384, CurveP521 or X25519)");
}

// bcrypt in the modular crypt format: $2a$, $2b$ or $2y$, a two-digit cost
// and 53 characters of salt and hash.
bool is_bcrypt_hash(std::string_view h) {
  if (h.size() != 60 || h[0] != '$' || h[1] != '2' || h[3] != '$' || h[6] != '$') return false;
  if (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') return false;
  if (h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9') return false;
  const int cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < 4 || cost > 31) return false;
  return std::all_of(h.begin() + 7, h.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '/';
  });
}

// The response headers the exporter-toolkit lets a web config set (names
// exactly as written here), with the values it allows where it limits them.
struct AllowedHeader {
  std::string_view name;
  std::array<std::string_view, 2> values;  // empty: any value
};
constexpr std::array<AllowedHeader, 5> kAllowedHeaders{{
    {"Strict-Transport-Security", {}},
    {"X-Content-Type-Options", {"nosniff", {}}},
    {"X-Frame-Options", {"deny", "sameorigin"}},
    {"X-XSS-Protection", {}},
    {"Content-Security-Policy", {}},
}};

void parse_tls(const YAML::Node& node, const fs::path& base_dir, WebConfig& out) {
  const std::string where = "tls_server_config";
  if (!is_map_or_null(node)) fail(where, "expected a map");
  if (!node || node.IsNull()) return;
  check_keys(node, where,
             {"cert_file", "key_file", "client_auth_type", "client_ca_file", "cipher_suites",
              "curve_preferences", "min_version", "max_version", "prefer_server_cipher_suites",
              "client_allowed_sans"});
  TlsServerConfig& tls = out.tls;
  std::optional<std::string> auth_type;
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    const std::string full = where + "." + key;
    const YAML::Node& value = entry.second;
    if (key == "cert_file") {
      tls.cert_file = resolve(scalar(value, full), base_dir);
    } else if (key == "key_file") {
      tls.key_file = resolve(scalar(value, full), base_dir);
    } else if (key == "client_ca_file") {
      tls.client_ca_file = resolve(scalar(value, full), base_dir);
    } else if (key == "client_auth_type") {
      auth_type = scalar(value, full);
      tls.client_auth = client_auth(*auth_type, full);
    } else if (key == "min_version") {
      tls.min_version = tls_version(scalar(value, full), full);
    } else if (key == "max_version") {
      tls.max_version = tls_version(scalar(value, full), full);
    } else if (key == "cipher_suites") {
      tls.cipher_suites = string_list(value, full);
    } else if (key == "curve_preferences") {
      auto names = string_list(value, full);
      for (size_t i = 0; i < names.size(); ++i) {
        tls.curve_preferences.push_back(curve(names[i], full + "[" + std::to_string(i) + "]"));
      }
    } else if (key == "prefer_server_cipher_suites") {
      tls.prefer_server_cipher_suites = boolean(value, full);
    } else if (key == "client_allowed_sans") {
      tls.client_allowed_sans = string_list(value, full);
    }
  }
  // As in the toolkit: a section without certificate, key or client
  // settings means plain HTTP; anything partial is an error.
  if (tls.cert_file.empty() && tls.key_file.empty() && !auth_type && tls.client_ca_file.empty()) {
    return;
  }
  if (tls.cert_file.empty()) fail(where + ".cert_file", "required when TLS is configured");
  if (tls.key_file.empty()) fail(where + ".key_file", "required when TLS is configured");
  // The toolkit's rules: a client CA needs a client auth policy, checking
  // client certificates needs a CA, and allowed SANs need a certificate to
  // be required (VerifyClientCertIfGiven would let a client without one in).
  if (!tls.client_ca_file.empty() && tls.client_auth == ClientAuth::none) {
    fail(where + ".client_auth_type", "client_ca_file is set without a client auth policy");
  }
  const bool verifies = tls.client_auth == ClientAuth::verify_if_given ||
                        tls.client_auth == ClientAuth::require_and_verify;
  if (verifies && tls.client_ca_file.empty()) {
    fail(where + ".client_ca_file", "required when client_auth_type is " + *auth_type);
  }
  if (!tls.client_allowed_sans.empty() && tls.client_auth != ClientAuth::require_any &&
      tls.client_auth != ClientAuth::require_and_verify) {
    fail(where + ".client_allowed_sans",
         "needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert");
  }
  if (tls.min_version > tls.max_version) {
    fail(where + ".min_version", "is higher than max_version");
  }
  out.tls_enabled = true;
}

void parse_http_server(const YAML::Node& node, WebConfig& out) {
  const std::string where = "http_server_config";
  if (!is_map_or_null(node)) fail(where, "expected a map");
  if (!node || node.IsNull()) return;
  check_keys(node, where, {"http2", "headers"});
  if (const YAML::Node http2 = node["http2"]) {
    boolean(http2, where + ".http2");  // accepted; we serve HTTP/1.1 only
  }
  const YAML::Node headers = node["headers"];
  if (!headers || headers.IsNull()) return;
  if (!headers.IsMap()) fail(where + ".headers", "expected a map of header names to values");
  reject_duplicates(headers, where + ".headers");
  for (const auto& entry : headers) {
    const std::string name = entry.first.as<std::string>();
    const std::string key = where + ".headers." + name;
    auto allowed = std::find_if(kAllowedHeaders.begin(), kAllowedHeaders.end(),
                                [&](const AllowedHeader& a) { return a.name == name; });
    if (allowed == kAllowedHeaders.end()) {
      fail(key, "not a header the web config may set (Strict-Transport-Security, "
                "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy)");
    }
    const std::string value = scalar(entry.second, key);
    if (std::any_of(value.begin(), value.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        })) {
      fail(key, "value must be on one line, without control characters");
    }
    if (!allowed->values[0].empty() &&
        std::find(allowed->values.begin(), allowed->values.end(), value) == allowed->values.end()) {
      std::string list;
      for (std::string_view v : allowed->values) {
        if (!v.empty()) list += (list.empty() ? "" : " or ") + std::string(v);
      }
      fail(key, "must be " + list);
    }
    out.headers.emplace_back(std::string(allowed->name), value);
  }
}

void parse_users(const YAML::Node& node, WebConfig& out) {
  const std::string where = "basic_auth_users";
  if (!is_map_or_null(node)) fail(where, "expected a map of user names to bcrypt hashes");
  if (!node || node.IsNull()) return;
  reject_duplicates(node, where);
  for (const auto& entry : node) {
    const std::string user = entry.first.as<std::string>();
    const std::string key = where + "." + user;
    if (user.empty() || user.find(':') != std::string::npos) {
      fail(key, "user names must be non-empty and contain no ':'");
    }
    if (!entry.second.IsScalar() || !is_bcrypt_hash(entry.second.as<std::string>())) {
      // The value is a secret's hash: do not echo it.
      fail(key, "not a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters; make one with "
                "`htpasswd -nBC 10 \"\" | tr -d ':\\n'`)");
    }
    out.basic_auth_users[user] = entry.second.as<std::string>();
  }
}

}  // namespace

std::expected<WebConfig, std::string> parse_web_config(std::string_view yaml,
                                                       const std::filesystem::path& base_dir) {
  WebConfig out;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (!root || root.IsNull()) return out;  // an empty file: plain HTTP, no auth
    if (!root.IsMap()) return std::unexpected(std::string("expected a YAML map at the top level"));
    check_keys(root, "", {"tls_server_config", "http_server_config", "basic_auth_users"});
    parse_tls(root["tls_server_config"], base_dir, out);
    parse_http_server(root["http_server_config"], out);
    parse_users(root["basic_auth_users"], out);
  } catch (const ConfigError& e) {
    return std::unexpected(e.message);
  } catch (const YAML::Exception& e) {
    return std::unexpected("invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  return out;
}

std::expected<WebConfig, std::string> load_web_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::unexpected("web config " + file.string() + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  fs::path base = file.parent_path();
  if (base.empty()) base = ".";
  auto parsed = parse_web_config(text.str(), base);
  if (!parsed) return std::unexpected("web config " + file.string() + ": " + parsed.error());
  return parsed;
}

std::vector<std::filesystem::path> web_config_files(const std::filesystem::path& file,
                                                     const WebConfig& config) {
  std::vector<fs::path> files{file};
  if (config.tls_enabled) {
    files.push_back(config.tls.cert_file);
    files.push_back(config.tls.key_file);
    if (!config.tls.client_ca_file.empty()) files.push_back(config.tls.client_ca_file);
  }
  return files;
}

}  // namespace klag::http
