#include "stop_signal.h"

#include <atomic>
#include <csignal>
#include <thread>

namespace klag::workload {
namespace {

// Lock-free, so setting it from a signal handler is safe.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int) { g_stop.store(true); }

}  // namespace

void install_stop_handlers() {
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A reader that closed our stdout must not kill a member mid-protocol.
  std::signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() { return g_stop.load(); }

void request_stop() { g_stop.store(true); }

void sleep_unless_stopped(std::chrono::steady_clock::duration d) {
  using namespace std::chrono_literals;
  auto deadline = std::chrono::steady_clock::now() + d;
  while (!stop_requested()) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= 0s) return;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, 50ms));
  }
}

}  // namespace klag::workload
