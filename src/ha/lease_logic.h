// The pure part of leader election through a coordination.k8s.io/v1 Lease:
// reading and writing Lease objects, and deciding what to do with the lease
// as observed. No I/O here; lease_election.cc talks to the API server.
//
// Expiry is judged the way client-go does, without trusting any clock but
// our own: a peer's lease is expired once its spec has not changed for
// leaseDurationSeconds since we first saw it, on our steady clock. The
// renewTime written in the object is for humans, never compared.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace klag::ha::lease {

using Clock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;
using std::chrono::milliseconds;

// LeaseSpec, the fields election uses. Times are MicroTime text as written.
struct Spec {
  std::string holder;  // holderIdentity; empty: free (released)
  int64_t duration_secs = 0;  // leaseDurationSeconds; 0 when absent
  std::string acquire_time;
  std::string renew_time;
  int64_t transitions = 0;  // leaseTransitions
  bool operator==(const Spec&) const = default;
};

struct Lease {
  Spec spec;
  std::string resource_version;  // metadata.resourceVersion
  std::string object;  // the object as received, so an update keeps what we do not manage
};

// A Lease object as the API server returns it. Errors on malformed JSON,
// a missing resourceVersion or a spec field of the wrong type.
std::expected<Lease, std::string> parse_lease(std::string_view json);

// Body of the POST that creates the lease.
std::string create_body(const std::string& name, const std::string& ns, const Spec& spec);

// Body of the PUT: `current` (its labels, annotations and resourceVersion,
// so a concurrent write makes the server answer 409) with `spec`'s fields.
std::string update_body(const Lease& current, const Spec& spec);

// RFC 3339 with microseconds in UTC, as MicroTime is serialized:
// 2026-11-27T12:00:00.000000Z.
std::string micro_time(WallClock::time_point t);

// The lease as last seen, and since when (our steady clock) its spec has
// been what it is.
struct Observation {
  Lease lease;
  Clock::time_point since;
};

// Records a fresh read (or a write's answer) of the lease: the observation
// time moves only when the spec changed.
Observation observe(const std::optional<Observation>& previous, Lease lease, Clock::time_point now);

enum class Action {
  create,     // no lease yet
  take_over,  // free, or a peer's lease that expired
  renew,      // ours
  wait,       // a peer's lease, still valid
};

struct Decision {
  Action action = Action::wait;
  Spec spec;  // to write, for create, take_over and renew
  Clock::time_point expires{};  // wait: when the peer's lease expires unless renewed
};

// `observed`: nullopt when the lease does not exist (GET answered 404).
// `duration_secs`: our configured lease duration, written into our spec and
// assumed for a peer's spec that has none.
Decision decide(const std::optional<Observation>& observed, const std::string& identity, int64_t duration_secs,
                Clock::time_point now, WallClock::time_point wall_now);

// The release written on a clean stop: no holder and a 1 s duration, so a
// peer takes over at its next look.
Spec released(const Spec& held, WallClock::time_point wall_now);

// The "message" of a Kubernetes Status object in an error answer (why a
// request was forbidden, say), cut to 200 characters; empty when the body
// is not one.
std::string status_message(std::string_view body);

// Timing derived from lease_duration_secs (D) and grace_period_secs (G).
struct Timing {
  milliseconds lease;            // D
  milliseconds trust;            // D - G: a leader counts on its last successful renew this long
  milliseconds renew;            // min(D/3, (D-G)/2): at least one retry fits before trust runs out
  milliseconds request_timeout;  // max(renew/2, 500ms)
  milliseconds first_backoff;    // min(500ms, renew), doubled per failure
  milliseconds max_backoff;      // renew
};
Timing timing(const config::Leadership& leadership);

// https://host:port from api_url, else from $KUBERNETES_SERVICE_HOST and
// $KUBERNETES_SERVICE_PORT (an IPv6 host gets its brackets). No trailing '/'.
std::expected<std::string, std::string> api_base(const std::string& api_url, const config::EnvLookup& env);

// <base>/apis/coordination.k8s.io/v1/namespaces/<ns>/leases[/<name>]; the
// names are percent-encoded.
std::string leases_url(const std::string& base, const std::string& ns);
std::string lease_url(const std::string& base, const std::string& ns, const std::string& name);

}  // namespace klag::ha::lease
