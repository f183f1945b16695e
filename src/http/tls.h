// The server side of TLS (OpenSSL), built from a web config's
// tls_server_config. Internal to the http stage: only this file and tls.cc
// include OpenSSL's TLS headers.
#pragma once

#include <expected>
#include <memory>
#include <string>
#include <vector>

#include "http/web_config.h"

struct ssl_ctx_st;
struct ssl_st;

namespace klag::http::detail {

struct SslDeleter {
  void operator()(ssl_st* ssl) const;
};
using SslPtr = std::unique_ptr<ssl_st, SslDeleter>;

// An SSL_CTX with the certificate, key, client CA, versions, ciphers and
// client-certificate checks of one tls_server_config. Immutable after
// create(). A connection holds a shared_ptr to the context its session came
// from, so a reload that replaces the context never pulls it from under a
// handshake.
class TlsContext {
 public:
  // Loads certificate, key and CA now, so a bad file fails here (the error
  // names the file and OpenSSL's reason) rather than in a handshake.
  static std::expected<std::shared_ptr<const TlsContext>, std::string> create(const TlsServerConfig& config);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A server-side session on the connected non-blocking socket `fd` (not
  // owned). Null if OpenSSL cannot allocate one.
  SslPtr new_session(int fd) const;

  // The subject alternative names a client certificate must carry one of
  // (empty: any verified certificate).
  const std::vector<std::string>& allowed_sans() const { return allowed_sans_; }
  // Whether client certificates must chain to client_ca_file (Verify* auth
  // types); RequestClientCert and RequireAnyClientCert do not check them.
  bool checks_chain() const { return checks_chain_; }

 private:
  TlsContext(ssl_ctx_st* ctx, std::vector<std::string> allowed_sans, bool checks_chain);
  ssl_ctx_st* ctx_;
  std::vector<std::string> allowed_sans_;
  bool checks_chain_;
};

// OpenSSL's queued errors as one line ("error:...: no certificates"), and
// clears the queue.
std::string take_openssl_errors();

}  // namespace klag::http::detail
