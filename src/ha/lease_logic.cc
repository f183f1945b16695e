#include "ha/lease_logic.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace klag::ha::lease {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// A string field that may be absent or null; anything else is malformed.
std::expected<std::string, std::string> string_field(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return std::unexpected(std::string(key) + " is not a string");
  return it->get<std::string>();
}

std::expected<int64_t, std::string> int_field(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return 0;
  if (!it->is_number_integer()) return std::unexpected(std::string(key) + " is not an integer");
  return it->get<int64_t>();
}

json spec_json(const Spec& s) {
  json out = json::object();
  // An empty holder is written as absent, as the API server itself omits it.
  if (!s.holder.empty()) out["holderIdentity"] = s.holder;
  out["leaseDurationSeconds"] = s.duration_secs;
  if (!s.acquire_time.empty()) out["acquireTime"] = s.acquire_time;
  if (!s.renew_time.empty()) out["renewTime"] = s.renew_time;
  out["leaseTransitions"] = s.transitions;
  return out;
}

std::string percent_encode(const std::string& s) {
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

std::expected<Lease, std::string> parse_lease(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return std::unexpected(std::string("lease is not valid JSON"));
  if (!doc.is_object()) return std::unexpected(std::string("lease is not a JSON object"));
  const auto meta = doc.find("metadata");
  if (meta == doc.end() || !meta->is_object()) return std::unexpected(std::string("lease has no metadata"));
  Lease out;
  auto rv = string_field(*meta, "resourceVersion");
  if (!rv) return std::unexpected("metadata." + rv.error());
  if (rv->empty()) return std::unexpected(std::string("lease has no metadata.resourceVersion"));
  out.resource_version = std::move(*rv);

  const auto spec = doc.find("spec");
  if (spec != doc.end() && !spec->is_null()) {
    if (!spec->is_object()) return std::unexpected(std::string("lease spec is not an object"));
    auto holder = string_field(*spec, "holderIdentity");
    auto duration = int_field(*spec, "leaseDurationSeconds");
    auto acquire = string_field(*spec, "acquireTime");
    auto renew = string_field(*spec, "renewTime");
    auto transitions = int_field(*spec, "leaseTransitions");
    if (!holder) return std::unexpected("spec." + holder.error());
    if (!duration) return std::unexpected("spec." + duration.error());
    if (!acquire) return std::unexpected("spec." + acquire.error());
    if (!renew) return std::unexpected("spec." + renew.error());
    if (!transitions) return std::unexpected("spec." + transitions.error());
    out.spec = Spec{.holder = std::move(*holder),
                    .duration_secs = *duration,
                    .acquire_time = std::move(*acquire),
                    .renew_time = std::move(*renew),
                    .transitions = *transitions};
  }
  out.object = std::string(text);
  return out;
}

std::string create_body(const std::string& name, const std::string& ns, const Spec& spec) {
  json doc = {{"apiVersion", "coordination.k8s.io/v1"},
              {"kind", "Lease"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec", spec_json(spec)}};
  return doc.dump();
}

std::string update_body(const Lease& current, const Spec& spec) {
  json doc = json::parse(current.object, nullptr, false);
  if (!doc.is_object()) doc = json::object();  // parse_lease accepted it, so this does not happen
  doc["metadata"]["resourceVersion"] = current.resource_version;
  json& s = doc["spec"];
  if (!s.is_object()) s = json::object();
  for (const char* key : {"holderIdentity", "leaseDurationSeconds", "acquireTime", "renewTime", "leaseTransitions"}) {
    s.erase(key);
  }
  s.update(spec_json(spec));
  return doc.dump();
}

std::string micro_time(WallClock::time_point t) {
  const auto us = std::chrono::floor<std::chrono::microseconds>(t);
  const auto secs = std::chrono::floor<seconds>(us);
  const std::time_t tt = WallClock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>((us - secs).count()));
  return buf;
}

Observation observe(const std::optional<Observation>& previous, Lease lease, Clock::time_point now) {
  // Only the spec counts, as in client-go: a write that touched labels or
  // annotations alone does not make a dead holder's lease look renewed.
  if (previous && previous->lease.spec == lease.spec) return Observation{std::move(lease), previous->since};
  return Observation{std::move(lease), now};
}

Decision decide(const std::optional<Observation>& observed, const std::string& identity, int64_t duration_secs,
                Clock::time_point now, WallClock::time_point wall_now) {
  const std::string stamp = micro_time(wall_now);
  if (!observed) {
    return Decision{.action = Action::create,
                    .spec = {.holder = identity,
                             .duration_secs = duration_secs,
                             .acquire_time = stamp,
                             .renew_time = stamp,
                             .transitions = 0}};
  }
  const Spec& held = observed->lease.spec;
  if (held.holder == identity && !identity.empty()) {
    return Decision{.action = Action::renew,
                    .spec = {.holder = identity,
                             .duration_secs = duration_secs,
                             .acquire_time = held.acquire_time.empty() ? stamp : held.acquire_time,
                             .renew_time = stamp,
                             .transitions = held.transitions}};
  }
  if (!held.holder.empty()) {
    // A spec without a positive duration cannot be judged by its own
    // terms; ours is what a peer of this deployment would have written.
    const int64_t secs = held.duration_secs > 0 ? held.duration_secs : duration_secs;
    const Clock::time_point expires = observed->since + seconds(secs);
    if (now < expires) return Decision{.action = Action::wait, .spec = {}, .expires = expires};
  }
  return Decision{.action = Action::take_over,
                  .spec = {.holder = identity,
                           .duration_secs = duration_secs,
                           .acquire_time = stamp,
                           .renew_time = stamp,
                           .transitions = held.transitions + 1}};
}

Spec released(const Spec& held, WallClock::time_point wall_now) {
  const std::string stamp = micro_time(wall_now);
  return Spec{.holder = {}, .duration_secs = 1, .acquire_time = stamp, .renew_time = stamp, .transitions = held.transitions};
}

std::string status_message(std::string_view body) {
  const json doc = json::parse(body, nullptr, false);
  if (!doc.is_object()) return {};
  const auto it = doc.find("message");
  if (it == doc.end() || !it->is_string()) return {};
  std::string msg = it->get<std::string>();
  if (msg.size() > 200) msg = msg.substr(0, 200) + "...";
  return msg;
}

Timing timing(const config::Leadership& l) {
  const milliseconds lease = seconds(l.lease_duration_secs);
  const milliseconds trust = seconds(l.lease_duration_secs - l.grace_period_secs);
  const milliseconds renew = std::min(lease / 3, trust / 2);
  return Timing{.lease = lease,
                .trust = trust,
                .renew = renew,
                .request_timeout = std::max(renew / 2, milliseconds(500)),
                .first_backoff = std::min(milliseconds(500), renew),
                .max_backoff = renew};
}

std::expected<std::string, std::string> api_base(const std::string& api_url, const config::EnvLookup& env) {
  std::string base = api_url;
  if (base.empty()) {
    const auto host = env("KUBERNETES_SERVICE_HOST");
    const auto port = env("KUBERNETES_SERVICE_PORT");
    if (!host || host->empty() || !port || port->empty()) {
      return std::unexpected(std::string(
          "api_url is empty and KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set (not running in a pod?)"));
    }
    const bool v6 = host->find(':') != std::string::npos && !host->starts_with("[");
    base = "https://" + (v6 ? "[" + *host + "]" : *host) + ":" + *port;
  }
  while (base.ends_with("/")) base.pop_back();
  return base;
}

std::string leases_url(const std::string& base, const std::string& ns) {
  return base + "/apis/coordination.k8s.io/v1/namespaces/" + percent_encode(ns) + "/leases";
}

std::string lease_url(const std::string& base, const std::string& ns, const std::string& name) {
  return leases_url(base, ns) + "/" + percent_encode(name);
}

}  // namespace klag::ha::lease
