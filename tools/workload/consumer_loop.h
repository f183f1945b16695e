// A live group member that consumes (optionally rate-limited) and commits,
// shared by `consume` and the demo's consumer groups.
#pragma once

#include "client.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace klag::workload {

struct ConsumeOptions {
  std::string group;
  std::vector<std::string> topics;
  double rate = 0;  // messages per second; 0 = as fast as possible
  int commit_interval_ms = 1000;
  std::string client_id;
};

// Consumes until stop_requested(), adding each message to `consumed`, then
// leaves the group with a final commit.
void run_consumer(const ConnectOptions& connect, const ConsumeOptions& options, std::atomic<uint64_t>& consumed);

}  // namespace klag::workload
