// Leader election between replicas (active/standby): exactly one replica
// collects and publishes lag; the others wait, ready to take over.
//
// Thread-safe: start/stop from the owning thread; is_leader() from any
// thread (HTTP handlers ask it on every request, so a replica that lost its
// leadership stops serving lag at once, not at its next cycle).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "config/config.h"

namespace klag::ha {

class Election {
 public:
  // Runs on the election's thread when leadership is gained or lost.
  using OnChange = std::function<void(bool leader)>;

  virtual ~Election() = default;
  virtual void start(OnChange on_change) = 0;
  // Steps down and releases leadership so a peer can take over at once.
  virtual void stop() = 0;
  virtual bool is_leader(std::chrono::steady_clock::time_point now) const = 0;
  virtual const char* provider() const = 0;
};

// This replica's name among its peers: `configured` when set, else
// $POD_NAME, else "<hostname>-<pid>".
std::string replica_identity(const std::string& configured);

// provider = "kafka": the member of the coordination group holding
// partition 0 of the coordination topic leads.
std::unique_ptr<Election> make_kafka_election(const config::Config& config, const std::string& identity);

// provider = "kubernetes": the holder of a coordination.k8s.io/v1 Lease leads.
std::unique_ptr<Election> make_lease_election(const config::Leadership& leadership, const std::string& identity);

}  // namespace klag::ha
