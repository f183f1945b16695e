#include "otlp/http_transport.h"

#include <curl/curl.h>

#include <mutex>

namespace klag::otlp {
namespace {

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

int on_progress(void* cancel, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* flag = static_cast<const std::atomic<bool>*>(cancel);
  return flag && flag->load() ? 1 : 0;  // non-zero aborts the transfer
}

}  // namespace

std::string metrics_url(const std::string& endpoint) {
  const size_t scheme = endpoint.find("://");
  const size_t path = endpoint.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) return endpoint + "/v1/metrics";
  if (endpoint.size() == path + 1) return endpoint + "v1/metrics";
  return endpoint;
}

struct HttpTransport::Impl {
  CURL* curl = nullptr;
  curl_slist* headers = nullptr;
  std::string url;
  char error[CURL_ERROR_SIZE] = {};
};

HttpTransport::HttpTransport(const config::Otel& cfg) : impl_(new Impl) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->curl = curl_easy_init();
  impl_->url = metrics_url(cfg.endpoint);
  impl_->headers = curl_slist_append(impl_->headers, "Content-Type: application/x-protobuf");
  for (const auto& [k, v] : cfg.headers) impl_->headers = curl_slist_append(impl_->headers, (k + ": " + v).c_str());
  CURL* c = impl_->curl;
  curl_easy_setopt(c, CURLOPT_URL, impl_->url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, impl_->headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(cfg.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, impl_->error);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &cancelled_);
  if (!cfg.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, cfg.ca_file.c_str());
  if (!cfg.cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, cfg.cert_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, cfg.key_file.c_str());
  }
}

HttpTransport::~HttpTransport() {
  curl_slist_free_all(impl_->headers);
  curl_easy_cleanup(impl_->curl);
  delete impl_;
}

SendOutcome HttpTransport::send(const ExportRequest& request) {
  const std::string body = request.SerializeAsString();
  CURL* c = impl_->curl;
  impl_->error[0] = '\0';
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    // Refused, reset, timed out, TLS handshake...: the receiver may be back
    // later. A TLS verification failure will not fix itself, but retrying
    // it within one interval costs little and keeps one rule.
    return {SendResult::retryable, impl_->error[0] ? impl_->error : curl_easy_strerror(rc)};
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  const std::string detail = "HTTP " + std::to_string(status);
  if (status >= 200 && status < 300) return {SendResult::success, detail};
  if (status == 429 || status == 502 || status == 503 || status == 504) return {SendResult::retryable, detail};
  return {SendResult::failed, detail};
}

}  // namespace klag::otlp
