#include "ha/lease_logic.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

namespace klag::ha::lease {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr const char* kLease = R"({
  "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
  "metadata": {"name": "klag", "namespace": "mon", "resourceVersion": "42",
               "labels": {"team": "data"}, "annotations": {"note": "keep me"}},
  "spec": {"holderIdentity": "replica-b", "leaseDurationSeconds": 6,
           "acquireTime": "2026-11-27T12:00:00.000000Z", "renewTime": "2026-11-27T12:00:04.000000Z",
           "leaseTransitions": 3, "strategy": "OldestEmulationVersion"}})";

Lease lease_of(const std::string& holder, int64_t duration = 6, const std::string& rv = "7",
               const std::string& renew = "2026-11-27T12:00:04.000000Z") {
  return Lease{.spec = {.holder = holder,
                        .duration_secs = duration,
                        .acquire_time = "2026-11-27T12:00:00.000000Z",
                        .renew_time = renew,
                        .transitions = 3},
               .resource_version = rv,
               .object = R"({"metadata":{"name":"klag","resourceVersion":")" + rv + R"("}})"};
}

const Clock::time_point t0 = Clock::time_point(seconds(1000));
const WallClock::time_point wall = WallClock::time_point(seconds(1795780800));  // 2026-11-27T12:00:00Z

// --- parsing -------------------------------------------------------------

TEST(ParseLease, ReadsSpecAndResourceVersion) {
  auto l = parse_lease(kLease);
  ASSERT_TRUE(l) << l.error();
  EXPECT_EQ(l->resource_version, "42");
  EXPECT_EQ(l->spec.holder, "replica-b");
  EXPECT_EQ(l->spec.duration_secs, 6);
  EXPECT_EQ(l->spec.acquire_time, "2026-11-27T12:00:00.000000Z");
  EXPECT_EQ(l->spec.renew_time, "2026-11-27T12:00:04.000000Z");
  EXPECT_EQ(l->spec.transitions, 3);
}

TEST(ParseLease, AbsentOrNullSpecFieldsAreEmpty) {
  // A lease created by hand (kubectl) may have no spec at all, and a
  // released one no holder.
  for (const char* text : {R"({"metadata":{"resourceVersion":"1"}})",
                           R"({"metadata":{"resourceVersion":"1"},"spec":{}})",
                           R"({"metadata":{"resourceVersion":"1"},"spec":null})",
                           R"({"metadata":{"resourceVersion":"1"},"spec":{"holderIdentity":null,"renewTime":null}})"}) {
    auto l = parse_lease(text);
    ASSERT_TRUE(l) << text << ": " << l.error();
    EXPECT_EQ(l->spec, Spec{}) << text;
  }
}

TEST(ParseLease, RejectsMalformedLeases) {
  const std::map<std::string, std::string> cases = {
      {"{\"metadata\":", "not valid JSON"},
      {"", "not valid JSON"},
      {"[1,2]", "not a JSON object"},
      {R"({"spec":{}})", "no metadata"},
      {R"({"metadata":{}})", "no metadata.resourceVersion"},
      {R"({"metadata":{"resourceVersion":""}})", "no metadata.resourceVersion"},
      {R"({"metadata":{"resourceVersion":42}})", "metadata.resourceVersion is not a string"},
      {R"({"metadata":{"resourceVersion":"1"},"spec":"x"})", "spec is not an object"},
      {R"({"metadata":{"resourceVersion":"1"},"spec":{"holderIdentity":7}})", "spec.holderIdentity is not a string"},
      {R"({"metadata":{"resourceVersion":"1"},"spec":{"leaseDurationSeconds":"15"}})",
       "spec.leaseDurationSeconds is not an integer"},
      {R"({"metadata":{"resourceVersion":"1"},"spec":{"leaseDurationSeconds":1.5}})",
       "spec.leaseDurationSeconds is not an integer"},
      {R"({"metadata":{"resourceVersion":"1"},"spec":{"renewTime":0}})", "spec.renewTime is not a string"},
      {R"({"metadata":{"resourceVersion":"1"},"spec":{"leaseTransitions":true}})",
       "spec.leaseTransitions is not an integer"},
  };
  for (const auto& [text, error] : cases) {
    auto l = parse_lease(text);
    ASSERT_FALSE(l) << text;
    EXPECT_NE(l.error().find(error), std::string::npos) << text << " -> " << l.error();
  }
}

// --- building ------------------------------------------------------------

TEST(CreateBody, IsALeaseWithOurSpec) {
  const Spec s{.holder = "replica-a", .duration_secs = 15, .acquire_time = "A", .renew_time = "R", .transitions = 0};
  const json doc = json::parse(create_body("klag", "mon", s));
  EXPECT_EQ(doc["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(doc["kind"], "Lease");
  EXPECT_EQ(doc["metadata"], json({{"name", "klag"}, {"namespace", "mon"}}));
  EXPECT_EQ(doc["spec"], json({{"holderIdentity", "replica-a"},
                               {"leaseDurationSeconds", 15},
                               {"acquireTime", "A"},
                               {"renewTime", "R"},
                               {"leaseTransitions", 0}}));
}

TEST(UpdateBody, CarriesTheResourceVersionReadAndKeepsWhatWeDoNotManage) {
  auto current = parse_lease(kLease);
  ASSERT_TRUE(current);
  const Spec s{.holder = "replica-a", .duration_secs = 15, .acquire_time = "A", .renew_time = "R", .transitions = 4};
  const json doc = json::parse(update_body(*current, s));
  EXPECT_EQ(doc["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(doc["metadata"]["labels"]["team"], "data");
  EXPECT_EQ(doc["metadata"]["annotations"]["note"], "keep me");
  EXPECT_EQ(doc["spec"]["strategy"], "OldestEmulationVersion");
  EXPECT_EQ(doc["spec"]["holderIdentity"], "replica-a");
  EXPECT_EQ(doc["spec"]["leaseDurationSeconds"], 15);
  EXPECT_EQ(doc["spec"]["leaseTransitions"], 4);
  // What we write is what we read back.
  auto again = parse_lease(doc.dump());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->spec, s);
}

TEST(UpdateBody, ReleaseClearsTheHolder) {
  auto current = parse_lease(kLease);
  ASSERT_TRUE(current);
  const Spec r = released(current->spec, wall);
  EXPECT_EQ(r.holder, "");
  EXPECT_EQ(r.duration_secs, 1);
  EXPECT_EQ(r.transitions, 3);
  EXPECT_EQ(r.renew_time, "2026-11-27T12:00:00.000000Z");
  const json doc = json::parse(update_body(*current, r));
  EXPECT_FALSE(doc["spec"].contains("holderIdentity"));
  EXPECT_EQ(doc["spec"]["leaseDurationSeconds"], 1);
  EXPECT_EQ(doc["metadata"]["resourceVersion"], "42");
}

TEST(MicroTime, IsRfc3339WithMicrosecondsInUtc) {
  EXPECT_EQ(micro_time(wall), "2026-11-27T12:00:00.000000Z");
  EXPECT_EQ(micro_time(wall + std::chrono::microseconds(1)), "2026-11-27T12:00:00.000001Z");
  // Sub-microsecond digits are cut, never rounded into the next second.
  EXPECT_EQ(micro_time(wall + seconds(59) + std::chrono::nanoseconds(999'999'999)), "2026-11-27T12:00:59.999999Z");
  EXPECT_EQ(micro_time(WallClock::time_point{}), "1970-01-01T00:00:00.000000Z");
}

TEST(StatusMessage, TakesTheMessageOfAStatusObject) {
  EXPECT_EQ(status_message(R"({"kind":"Status","message":"leases is forbidden","code":403})"), "leases is forbidden");
  EXPECT_EQ(status_message("<html>bad gateway</html>"), "");
  EXPECT_EQ(status_message(R"({"message":7})"), "");
  EXPECT_EQ(status_message(R"({"message":")" + std::string(500, 'x') + "\"}").size(), 203u);
}

// --- observing -----------------------------------------------------------

TEST(Observe, TheClockStartsWhenTheSpecIsFirstSeen) {
  const Observation first = observe(std::nullopt, lease_of("replica-b"), t0);
  EXPECT_EQ(first.since, t0);
  // Same spec read again: still counting from the first sight.
  const Observation same = observe(first, lease_of("replica-b"), t0 + seconds(3));
  EXPECT_EQ(same.since, t0);
  // A write that changed only metadata (new resourceVersion) does not renew.
  const Observation meta = observe(same, lease_of("replica-b", 6, "8"), t0 + seconds(4));
  EXPECT_EQ(meta.since, t0);
  EXPECT_EQ(meta.lease.resource_version, "8");
  // The holder renewed: the clock restarts.
  const Observation renewed =
      observe(meta, lease_of("replica-b", 6, "9", "2026-11-27T12:00:06.000000Z"), t0 + seconds(5));
  EXPECT_EQ(renewed.since, t0 + seconds(5));
  // A new holder: restarts too.
  EXPECT_EQ(observe(renewed, lease_of("replica-c", 6, "9", "2026-11-27T12:00:06.000000Z"), t0 + seconds(6)).since,
            t0 + seconds(6));
}

// --- deciding ------------------------------------------------------------

TEST(Decide, NoLeaseCreatesIt) {
  const Decision d = decide(std::nullopt, "replica-a", 6, t0, wall);
  EXPECT_EQ(d.action, Action::create);
  EXPECT_EQ(d.spec, (Spec{.holder = "replica-a",
                          .duration_secs = 6,
                          .acquire_time = "2026-11-27T12:00:00.000000Z",
                          .renew_time = "2026-11-27T12:00:00.000000Z",
                          .transitions = 0}));
}

TEST(Decide, OwnLeaseIsRenewedKeepingAcquireTimeAndTransitions) {
  const Observation o{lease_of("replica-a"), t0};
  // Whenever it was last seen, even long ago: the resourceVersion decides.
  for (auto now : {t0, t0 + seconds(5), t0 + seconds(600)}) {
    const Decision d = decide(o, "replica-a", 15, now, wall + seconds(1));
    EXPECT_EQ(d.action, Action::renew);
    EXPECT_EQ(d.spec.holder, "replica-a");
    EXPECT_EQ(d.spec.duration_secs, 15);
    EXPECT_EQ(d.spec.acquire_time, "2026-11-27T12:00:00.000000Z");
    EXPECT_EQ(d.spec.renew_time, "2026-11-27T12:00:01.000000Z");
    EXPECT_EQ(d.spec.transitions, 3);
  }
}

TEST(Decide, PeersLeaseIsRespectedUntilExactlyItsDuration) {
  const Observation o{lease_of("replica-b", 6), t0};
  const Decision fresh = decide(o, "replica-a", 6, t0, wall);
  EXPECT_EQ(fresh.action, Action::wait);
  EXPECT_EQ(fresh.expires, t0 + seconds(6));
  const Decision almost = decide(o, "replica-a", 6, t0 + seconds(6) - std::chrono::nanoseconds(1), wall);
  EXPECT_EQ(almost.action, Action::wait);
  EXPECT_EQ(almost.expires, t0 + seconds(6));
  // At the boundary the lease is expired (as client-go: valid while
  // observed + duration is after now).
  const Decision at = decide(o, "replica-a", 6, t0 + seconds(6), wall);
  EXPECT_EQ(at.action, Action::take_over);
  EXPECT_EQ(at.spec, (Spec{.holder = "replica-a",
                           .duration_secs = 6,
                           .acquire_time = "2026-11-27T12:00:00.000000Z",
                           .renew_time = "2026-11-27T12:00:00.000000Z",
                           .transitions = 4}));
}

TEST(Decide, PeersOwnDurationCountsNotOurs) {
  // The holder wrote 20 s; our 6 s must not cut its lease short.
  const Observation o{lease_of("replica-b", 20), t0};
  EXPECT_EQ(decide(o, "replica-a", 6, t0 + seconds(19), wall).action, Action::wait);
  EXPECT_EQ(decide(o, "replica-a", 6, t0 + seconds(20), wall).action, Action::take_over);
  // No duration in the spec: ours.
  const Observation none{lease_of("replica-b", 0), t0};
  EXPECT_EQ(decide(none, "replica-a", 6, t0 + seconds(5), wall).action, Action::wait);
  EXPECT_EQ(decide(none, "replica-a", 6, t0 + seconds(6), wall).action, Action::take_over);
}

TEST(Decide, PeerClockSkewDoesNotMatter) {
  // A renewTime far in the past (the peer's clock is behind) or future is
  // never read: only when we saw the spec change.
  for (const char* renew : {"1999-01-01T00:00:00.000000Z", "2099-01-01T00:00:00.000000Z"}) {
    const Observation o{lease_of("replica-b", 6, "7", renew), t0};
    EXPECT_EQ(decide(o, "replica-a", 6, t0 + seconds(5), wall).action, Action::wait) << renew;
    EXPECT_EQ(decide(o, "replica-a", 6, t0 + seconds(6), wall).action, Action::take_over) << renew;
  }
}

TEST(Decide, ReleasedLeaseIsTakenAtOnce) {
  auto l = lease_of("");
  l.spec.duration_secs = 1;
  const Observation o{l, t0};
  const Decision d = decide(o, "replica-a", 6, t0, wall);
  EXPECT_EQ(d.action, Action::take_over);
  EXPECT_EQ(d.spec.holder, "replica-a");
  EXPECT_EQ(d.spec.duration_secs, 6);
  EXPECT_EQ(d.spec.transitions, 4);
}

TEST(Decide, ConflictThenReReadDecidesAgain) {
  // We saw replica-b's lease at t0 and it looked dead at t0 + 6 s, but our
  // take-over PUT got 409: replica-b renewed meanwhile. The re-read shows a
  // new spec, so its clock restarts and we wait a full duration again.
  std::optional<Observation> o = observe(std::nullopt, lease_of("replica-b", 6, "7"), t0);
  ASSERT_EQ(decide(o, "replica-a", 6, t0 + seconds(6), wall).action, Action::take_over);
  o = observe(o, lease_of("replica-b", 6, "8", "2026-11-27T12:00:10.000000Z"), t0 + seconds(6));
  const Decision d = decide(o, "replica-a", 6, t0 + seconds(6), wall);
  EXPECT_EQ(d.action, Action::wait);
  EXPECT_EQ(d.expires, t0 + seconds(12));

  // A 409 on our own renew where the re-read still names us (someone wrote
  // an annotation): renew again, now with the new resourceVersion.
  std::optional<Observation> own = observe(std::nullopt, lease_of("replica-a", 6, "20"), t0);
  own = observe(own, lease_of("replica-a", 6, "21"), t0 + seconds(2));
  const Decision again = decide(own, "replica-a", 6, t0 + seconds(2), wall);
  EXPECT_EQ(again.action, Action::renew);
  EXPECT_EQ(json::parse(update_body(own->lease, again.spec))["metadata"]["resourceVersion"], "21");

  // A 409 on create: the peer created it first; reading it shows its fresh lease.
  std::optional<Observation> created = observe(std::nullopt, lease_of("replica-b", 6, "1"), t0);
  EXPECT_EQ(decide(created, "replica-a", 6, t0, wall).action, Action::wait);
}

// --- timing and URLs -----------------------------------------------------

TEST(Timing, RenewLeavesRoomForARetryBeforeSteppingDown) {
  using std::chrono::milliseconds;
  auto t = [](int64_t d, int64_t g) {
    config::Leadership l;
    l.lease_duration_secs = d;
    l.grace_period_secs = g;
    return timing(l);
  };
  const Timing defaults = t(15, 5);
  EXPECT_EQ(defaults.lease, milliseconds(15000));
  EXPECT_EQ(defaults.trust, milliseconds(10000));
  EXPECT_EQ(defaults.renew, milliseconds(5000));
  EXPECT_EQ(defaults.request_timeout, milliseconds(2500));
  EXPECT_EQ(defaults.first_backoff, milliseconds(500));
  EXPECT_EQ(defaults.max_backoff, milliseconds(5000));

  const Timing test = t(6, 2);
  EXPECT_EQ(test.trust, milliseconds(4000));
  EXPECT_EQ(test.renew, milliseconds(2000));
  EXPECT_EQ(test.request_timeout, milliseconds(1000));

  // A large grace: renew at half of what is left, not a third of the lease.
  const Timing wide = t(15, 12);
  EXPECT_EQ(wide.trust, milliseconds(3000));
  EXPECT_EQ(wide.renew, milliseconds(1500));

  const Timing tiny = t(2, 1);
  EXPECT_EQ(tiny.trust, milliseconds(1000));
  EXPECT_EQ(tiny.renew, milliseconds(500));
  EXPECT_EQ(tiny.request_timeout, milliseconds(500));
  EXPECT_EQ(tiny.first_backoff, milliseconds(500));
  EXPECT_EQ(tiny.max_backoff, milliseconds(500));
  for (const Timing& x : {defaults, test, wide, tiny}) {
    EXPECT_LE(x.renew * 2, x.trust);
    EXPECT_LE(x.max_backoff, x.renew);
    EXPECT_LT(x.trust, x.lease);
  }
}

TEST(ApiBase, FromConfigOrThePodEnvironment) {
  std::map<std::string, std::string> env;
  const config::EnvLookup lookup = [&env](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    return it == env.end() ? std::nullopt : std::optional(it->second);
  };
  EXPECT_EQ(api_base("https://10.0.0.1:6443/", lookup).value(), "https://10.0.0.1:6443");
  EXPECT_FALSE(api_base("", lookup));
  EXPECT_NE(api_base("", lookup).error().find("KUBERNETES_SERVICE_HOST"), std::string::npos);
  env["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
  EXPECT_FALSE(api_base("", lookup));  // no port
  env["KUBERNETES_SERVICE_PORT"] = "443";
  EXPECT_EQ(api_base("", lookup).value(), "https://10.96.0.1:443");
  env["KUBERNETES_SERVICE_HOST"] = "fd00:10:96::1";
  EXPECT_EQ(api_base("", lookup).value(), "https://[fd00:10:96::1]:443");
  // A configured URL wins over the environment.
  EXPECT_EQ(api_base("https://api.example:8443", lookup).value(), "https://api.example:8443");
}

TEST(LeaseUrl, FollowsTheCoordinationApiPath) {
  EXPECT_EQ(lease_url("https://h:1", "monitoring", "klag-exporter"),
            "https://h:1/apis/coordination.k8s.io/v1/namespaces/monitoring/leases/klag-exporter");
  EXPECT_EQ(leases_url("https://h:1", "monitoring"),
            "https://h:1/apis/coordination.k8s.io/v1/namespaces/monitoring/leases");
  // Names are not trusted to stay inside their path segment.
  EXPECT_EQ(lease_url("https://h:1", "a/b", "x?y"),
            "https://h:1/apis/coordination.k8s.io/v1/namespaces/a%2Fb/leases/x%3Fy");
}

}  // namespace
}  // namespace klag::ha::lease
