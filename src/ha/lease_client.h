// HTTPS requests to the Kubernetes API server for the Lease election, with
// libcurl: the service-account bearer token (re-read from its file on every
// request, since kubelet rotates it) and the cluster CA.
//
// One easy handle, reused so the connection stays open, driven through a
// multi handle so cancel() ends a request in flight at once rather than at
// libcurl's next progress tick. Not thread-safe except cancel().
#pragma once

#include <atomic>
#include <chrono>
#include <expected>
#include <string>

namespace klag::ha::lease {

struct Response {
  long status = 0;
  std::string body;
};

class Client {
 public:
  Client(std::string token_file, std::string ca_file);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&&) = delete;
  Client& operator=(Client&&) = delete;

  enum class Method { get, post, put };
  // Any HTTP status is a Response; the error is for no answer at all
  // (refused, timed out, TLS, unreadable token file, cancelled). A
  // `cancellable` request ends at cancel(); the release on stop is not.
  std::expected<Response, std::string> send(Method method, const std::string& url, const std::string& body,
                                            std::chrono::milliseconds timeout, bool cancellable = true);

  // Any thread: aborts the cancellable request in flight and every later one.
  void cancel();

 private:
  std::expected<std::string, std::string> bearer() const;

  std::string token_file_;
  std::string ca_file_;
  void* easy_ = nullptr;   // CURL*
  void* multi_ = nullptr;  // CURLM*
  std::atomic<bool> cancelled_{false};
};

}  // namespace klag::ha::lease
