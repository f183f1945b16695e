#include "http/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace klag::http::detail {
namespace {

int to_openssl(TlsVersion v) {
  switch (v) {
    case TlsVersion::tls10: return TLS1_VERSION;
    case TlsVersion::tls11: return TLS1_1_VERSION;
    case TlsVersion::tls12: return TLS1_2_VERSION;
    case TlsVersion::tls13: return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

struct CtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxDeleter>;

// The TLS 1.3 suites Go accepts in cipher_suites (and ignores, as 1.3
// suites are not configurable there).
constexpr std::string_view kTls13Suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                             "TLS_CHACHA20_POLY1305_SHA256"};

// Maps IANA cipher suite names (what Go and the toolkit use) to OpenSSL's
// names, from every suite this OpenSSL knows.
std::expected<std::string, std::string> openssl_cipher_list(const std::vector<std::string>& names) {
  CtxPtr probe(SSL_CTX_new(TLS_server_method()));
  if (!probe || SSL_CTX_set_cipher_list(probe.get(), "ALL:COMPLEMENTOFALL") != 1) {
    return std::unexpected("cannot list OpenSSL's ciphers: " + take_openssl_errors());
  }
  STACK_OF(SSL_CIPHER)* known = SSL_CTX_get_ciphers(probe.get());
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    const std::string key = "tls_server_config.cipher_suites[" + std::to_string(i) + "]";
    if (std::find(std::begin(kTls13Suites), std::end(kTls13Suites), name) != std::end(kTls13Suites)) {
      continue;
    }
    const char* openssl_name = nullptr;
    for (int j = 0; j < sk_SSL_CIPHER_num(known); ++j) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(known, j);
      const char* standard = SSL_CIPHER_standard_name(c);
      if (standard != nullptr && name == standard) {
        openssl_name = SSL_CIPHER_get_name(c);
        break;
      }
    }
    if (openssl_name == nullptr) {
      return std::unexpected(key + ": unknown cipher suite \"" + name +
                             "\" (use IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)");
    }
    list += (list.empty() ? "" : ":") + std::string(openssl_name);
  }
  return list;
}

bool san_allowed(X509* cert, const std::vector<std::string>& allowed) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return false;
  bool found = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    std::string text;
    if (name->type == GEN_DNS || name->type == GEN_EMAIL || name->type == GEN_URI) {
      const ASN1_IA5STRING* s = name->d.ia5;
      text.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                  static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (name->type == GEN_IPADD) {
      char buffer[64] = {};
      const ASN1_OCTET_STRING* ip = name->d.ip;
      const int length = ASN1_STRING_length(ip);
      const unsigned char* bytes = ASN1_STRING_get0_data(ip);
      if (length == 4) {
        std::snprintf(buffer, sizeof buffer, "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
        text = buffer;
      } else if (length == 16) {
        in6_addr address;
        std::memcpy(&address, bytes, 16);
        char out[INET6_ADDRSTRLEN] = {};
        if (IN6_IS_ADDR_V4MAPPED(&address)) {
          // As Go prints it: the IPv4 form.
          std::snprintf(out, sizeof out, "%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
          text = out;
        } else if (inet_ntop(AF_INET6, &address, out, sizeof out) != nullptr) {
          text = out;
        }
      }
    }
    found = !text.empty() && std::find(allowed.begin(), allowed.end(), text) != allowed.end();
  }
  GENERAL_NAMES_free(names);
  return found;
}

// Verification callback. With RequestClientCert and RequireAnyClientCert
// the chain is not checked (as in Go); otherwise OpenSSL's verdict stands.
// Either way, with client_allowed_sans the leaf must carry one of them.
int verify_client(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  const auto* context = static_cast<const TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (context == nullptr) return 0;
  if (context->checks_chain() && !preverify_ok) return 0;
  if (X509_STORE_CTX_get_error_depth(store) != 0 || context->allowed_sans().empty()) return 1;
  X509* leaf = X509_STORE_CTX_get_current_cert(store);
  if (leaf != nullptr && san_allowed(leaf, context->allowed_sans())) return 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  return 0;
}

}  // namespace

void SslDeleter::operator()(ssl_st* ssl) const { SSL_free(ssl); }

std::string take_openssl_errors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    out += (out.empty() ? "" : "; ") + std::string(buffer);
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

TlsContext::TlsContext(ssl_ctx_st* ctx, std::vector<std::string> allowed_sans, bool checks_chain)
    : ctx_(ctx), allowed_sans_(std::move(allowed_sans)), checks_chain_(checks_chain) {}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::expected<std::shared_ptr<const TlsContext>, std::string> TlsContext::create(const TlsServerConfig& config) {
  ERR_clear_error();
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return std::unexpected("cannot create a TLS context: " + take_openssl_errors());
  SSL_CTX* c = ctx.get();
  SSL_CTX_set_min_proto_version(c, to_openssl(config.min_version));
  SSL_CTX_set_max_proto_version(c, to_openssl(config.max_version));
  // Partial writes and retries from a moved buffer fit the event loop's
  // send-what-the-socket-takes writing; idle connections drop their buffers.
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                          SSL_MODE_RELEASE_BUFFERS);
  // Client-initiated renegotiation only costs us CPU. A client that closes
  // TCP without close_notify has still sent its request: treat it as EOF.
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (config.prefer_server_cipher_suites) SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE);

  const std::string cert = config.cert_file.string();
  if (SSL_CTX_use_certificate_chain_file(c, cert.c_str()) != 1) {
    return std::unexpected("tls_server_config.cert_file: cannot load " + cert + ": " + take_openssl_errors());
  }
  const std::string key = config.key_file.string();
  if (SSL_CTX_use_PrivateKey_file(c, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return std::unexpected("tls_server_config.key_file: cannot load " + key + ": " + take_openssl_errors());
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    return std::unexpected("tls_server_config.key_file: " + key + " does not match the certificate in " +
                           cert + ": " + take_openssl_errors());
  }
  if (!config.cipher_suites.empty()) {
    auto list = openssl_cipher_list(config.cipher_suites);
    if (!list) return std::unexpected(list.error());
    if (!list->empty() && SSL_CTX_set_cipher_list(c, list->c_str()) != 1) {
      return std::unexpected("tls_server_config.cipher_suites: OpenSSL rejected \"" + *list +
                             "\": " + take_openssl_errors());
    }
  }
  if (!config.curve_preferences.empty()) {
    std::string groups;
    for (const auto& g : config.curve_preferences) groups += (groups.empty() ? "" : ":") + g;
    if (SSL_CTX_set1_groups_list(c, groups.c_str()) != 1) {
      return std::unexpected("tls_server_config.curve_preferences: OpenSSL rejected \"" + groups +
                             "\": " + take_openssl_errors());
    }
  }

  int mode = SSL_VERIFY_NONE;
  bool checks_chain = false;
  switch (config.client_auth) {
    case ClientAuth::none:
      break;
    case ClientAuth::request:
      mode = SSL_VERIFY_PEER;
      break;
    case ClientAuth::require_any:
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      break;
    case ClientAuth::verify_if_given:
      mode = SSL_VERIFY_PEER;
      checks_chain = true;
      break;
    case ClientAuth::require_and_verify:
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      checks_chain = true;
      break;
  }
  // Allowed SANs are only checked on a certificate that was sent: require one.
  if (!config.client_allowed_sans.empty()) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  if (!config.client_ca_file.empty()) {
    const std::string ca = config.client_ca_file.string();
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str());
    if (names == nullptr || SSL_CTX_load_verify_locations(c, ca.c_str(), nullptr) != 1) {
      if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
      return std::unexpected("tls_server_config.client_ca_file: cannot load " + ca + ": " +
                             take_openssl_errors());
    }
    SSL_CTX_set_client_CA_list(c, names);  // takes ownership
    // Any certificate in the file is a trust anchor, an intermediate CA
    // included, as in Go's certificate pools.
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(c), X509_V_FLAG_PARTIAL_CHAIN);
  }
  SSL_CTX_set_verify(c, mode, mode == SSL_VERIFY_NONE ? nullptr : verify_client);
  // Session resumption with client certificates needs a session id context.
  static constexpr unsigned char kSessionContext[] = "klag-exporter";
  SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1);

  std::shared_ptr<TlsContext> context(new TlsContext(ctx.release(), config.client_allowed_sans, checks_chain));
  SSL_CTX_set_app_data(context->ctx_, context.get());
  return std::shared_ptr<const TlsContext>(std::move(context));
}

SslPtr TlsContext::new_session(int fd) const {
  SslPtr ssl(SSL_new(ctx_));
  if (!ssl) return nullptr;
  if (SSL_set_fd(ssl.get(), fd) != 1) return nullptr;
  SSL_set_accept_state(ssl.get());
  return ssl;
}

}  // namespace klag::http::detail
