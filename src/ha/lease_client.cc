#include "ha/lease_client.h"

#include <curl/curl.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

namespace klag::ha::lease {
namespace {

// A Lease is well under 1 KiB; anything this large is not one.
constexpr size_t kMaxBody = 1 << 20;

size_t collect(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * n > kMaxBody) return 0;  // aborts the transfer
  body->append(data, size * n);
  return size * n;
}

struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

Client::Client(std::string token_file, std::string ca_file)
    : token_file_(std::move(token_file)), ca_file_(std::move(ca_file)) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  easy_ = curl_easy_init();
  multi_ = curl_multi_init();
}

Client::~Client() {
  curl_multi_cleanup(multi_);
  curl_easy_cleanup(easy_);
}

void Client::cancel() {
  cancelled_ = true;
  curl_multi_wakeup(multi_);  // the one multi call that is safe from another thread
}

std::expected<std::string, std::string> Client::bearer() const {
  std::ifstream in(token_file_);
  if (!in) return std::unexpected("cannot read token file " + token_file_ + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token = ss.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) return std::unexpected("token file " + token_file_ + " is empty");
  return token;
}

std::expected<Response, std::string> Client::send(Method method, const std::string& url, const std::string& body,
                                                  std::chrono::milliseconds timeout, bool cancellable) {
  if (cancellable && cancelled_) return std::unexpected(std::string("cancelled"));
  // libcurl reads a zero timeout as none at all.
  if (timeout <= std::chrono::milliseconds(0)) return std::unexpected(std::string("no time left"));
  auto token = bearer();
  if (!token) return std::unexpected(token.error());
  std::unique_ptr<curl_slist, SlistFree> headers;
  auto add = [&headers](const std::string& h) { headers.reset(curl_slist_append(headers.release(), h.c_str())); };
  add("Authorization: Bearer " + *token);
  add("Accept: application/json");
  if (method != Method::get) {
    add("Content-Type: application/json");
    add("Expect:");  // a lease with many annotations must not wait for "100 Continue"
  }

  Response out;
  char error[CURL_ERROR_SIZE] = {};
  CURL* c = easy_;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  if (!ca_file_.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, ca_file_.c_str());
  switch (method) {
    case Method::get:
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, nullptr);
      break;
    case Method::post:
    case Method::put:
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method == Method::put ? "PUT" : nullptr);
      break;
  }

  curl_multi_add_handle(multi_, c);
  CURLcode rc = CURLE_OK;
  bool done = false;
  bool aborted = false;
  while (!done) {
    int running = 0;
    if (curl_multi_perform(multi_, &running) != CURLM_OK) {
      rc = CURLE_FAILED_INIT;
      break;
    }
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg == CURLMSG_DONE) {
        rc = msg->data.result;
        done = true;
      }
    }
    if (done) break;
    if (cancellable && cancelled_) {
      aborted = true;
      break;
    }
    // The transfer's own timeout bounds the whole loop; cancel() wakes the poll.
    curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
  }
  curl_multi_remove_handle(multi_, c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);  // the list dies here
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  if (aborted) return std::unexpected(std::string("cancelled"));
  if (!done || rc != CURLE_OK) return std::unexpected(std::string(error[0] ? error : curl_easy_strerror(rc)));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

}  // namespace klag::ha::lease
