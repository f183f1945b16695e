"""Leader election through a Kubernetes Lease (provider = "kubernetes"):
two exporter replicas against one real broker and an HTTPS stand-in for the
Lease API (lease_standin.py; no API server runs here). Exactly one replica
serves lag; a killed leader is replaced once its lease expires; a conflict
on renew is survived; a leader that cannot reach the API steps down before
its lease could expire; a stopped leader hands the lease over at once."""

import json
import os
import shutil
import signal
import ssl
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from klag_harness import Broker, Exporter, exporter_config, parse_metrics, select, value, wait_until
from lease_standin import LeaseStandIn

NS = "monitoring"
TOKEN = "it-token-0123456789"
LEASE_SECS = 6
GRACE_SECS = 2
POLL_SECS = 1
GROUP, TOPIC = "lease-group", "lease-events"
LAG_P0 = 15  # 20 records per partition, committed at 5 on partition 0


class LeaseElectionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="klag-it-lease-")
        cls.standin = LeaseStandIn(cls.dir, TOKEN)
        cls.token_file = os.path.join(cls.dir, "token")
        with open(cls.token_file, "w") as f:
            f.write(TOKEN + "\n")
        cls.broker = Broker()
        cls.broker.create_topic(TOPIC, 2)
        cls.broker.produce(TOPIC, 20)
        cls.broker.commit(GROUP, [(TOPIC, 0, 5), (TOPIC, 1, 20)])

    @classmethod
    def tearDownClass(cls):
        cls.broker.purge()
        cls.standin.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    # --- helpers ---------------------------------------------------------

    def replica(self, identity, lease):
        e = Exporter(exporter_config(self.broker.bootstrap, "local", poll_interval=f"{POLL_SECS}s", exporter_extra=f"""
[exporter.leadership]
enabled = true
provider = "kubernetes"
identity = "{identity}"
lease_name = "{lease}"
lease_namespace = "{NS}"
lease_duration_secs = {LEASE_SECS}
grace_period_secs = {GRACE_SECS}
api_url = "{self.standin.url}"
token_file = "{self.token_file}"
ca_file = "{self.standin.ca_file}"
"""))
        e.identity = identity
        self.addCleanup(self.stop_quietly, e)
        return e

    @staticmethod
    def stop_quietly(e):
        if e.proc.poll() is None:
            e.stop()
        elif not e.log.closed:
            e.log.close()

    @staticmethod
    def kill(e):
        e.proc.send_signal(signal.SIGKILL)
        e.proc.wait()
        e.log.close()

    @staticmethod
    def is_leader(e):
        """/leader's answer, or None when the replica does not answer."""
        status, body, _ = e.get("/leader")
        if status != 200:
            return None
        return json.loads(body)["is_leader"]

    @staticmethod
    def serves_lag(e):
        status, body, _ = e.get("/metrics")
        if status != 200:
            return False
        found = select(parse_metrics(body.decode()), "kafka_consumergroup_group_lag", cluster_name="local",
                       group=GROUP, topic=TOPIC, partition=0)
        return list(found.values()) == [LAG_P0]

    def leader_of(self, replicas):
        leaders = [e for e in replicas if self.is_leader(e)]
        return leaders[0] if len(leaders) == 1 else None

    def assert_leader(self, e):
        wait_until(lambda: self.serves_lag(e) and e.get("/ready")[0] == 200, 30, f"{e.identity} to serve lag")
        m = e.metrics()
        self.assertEqual(value(m, "kafka_lag_exporter_leader", provider="kubernetes"), 1)
        self.assertEqual(value(m, "kafka_consumergroup_group_lag", cluster_name="local", group=GROUP, topic=TOPIC,
                               partition=1), 0)
        self.assertEqual(json.loads(e.get("/leader")[1]), {"is_leader": True})

    def assert_standby(self, e):
        m = e.metrics()
        self.assertEqual(value(m, "kafka_lag_exporter_leader", provider="kubernetes"), 0)
        cluster_series = sorted({n for (n, _) in m if n.startswith("kafka_consumergroup_")})
        self.assertEqual(cluster_series, [], f"standby {e.identity} serves cluster series")
        self.assertEqual(json.loads(e.get("/leader")[1]), {"is_leader": False})
        status, body, _ = e.get("/ready")
        self.assertEqual(status, 503)
        self.assertTrue(body.decode().strip(), "503 without a reason")

    def elect(self, lease):
        a, b = self.replica("replica-a", lease), self.replica("replica-b", lease)
        wait_until(lambda: self.leader_of([a, b]) is not None, 20, "one leader")
        leader = self.leader_of([a, b])
        standby = b if leader is a else a
        self.assert_leader(leader)
        self.assert_standby(standby)
        self.assertEqual(self.standin.holder(NS, lease), leader.identity)
        return leader, standby

    # --- tests -----------------------------------------------------------

    def test_standin_answers_as_the_lease_api(self):
        """The stand-in's own rules, so the other tests rest on them."""
        ctx = ssl.create_default_context(cafile=self.standin.ca_file)
        url = f"{self.standin.url}/apis/coordination.k8s.io/v1/namespaces/{NS}/leases"

        def call(method, path="", body=None, token=TOKEN):
            req = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode() if body else None,
                                         headers={"Authorization": f"Bearer {token}"} if token else {})
            try:
                with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())

        self.assertEqual(call("GET", "/probe", token=None)[0], 401)
        self.assertEqual(call("GET", "/probe", token="wrong")[0], 401)
        self.assertEqual(call("GET", "/probe")[0], 404)
        status, made = call("POST", body={"metadata": {"name": "probe"}, "spec": {"holderIdentity": "x"}})
        self.assertEqual(status, 201)
        self.assertEqual(call("POST", body={"metadata": {"name": "probe"}})[0], 409)
        status, updated = call("PUT", "/probe", made)
        self.assertEqual(status, 200)
        self.assertGreater(int(updated["metadata"]["resourceVersion"]), int(made["metadata"]["resourceVersion"]))
        self.assertEqual(call("PUT", "/probe", made)[0], 409)  # made's resourceVersion is stale now

    def test_one_leader_and_failover_after_sigkill(self):
        lease = "kill"
        leader, standby = self.elect(lease)
        # Stays that way: the standby does not take a lease that is renewed.
        time.sleep(LEASE_SECS / 2)
        self.assertTrue(self.is_leader(leader))
        self.assertFalse(self.is_leader(standby))

        killed = time.monotonic()
        self.kill(leader)
        wait_until(lambda: self.serves_lag(standby), LEASE_SECS + POLL_SECS + 10, "the standby to take over")
        failover = time.monotonic() - killed
        print(f"\n  failover after SIGKILL of the leader: {failover:.2f}s "
              f"(lease {LEASE_SECS}s, renew every {LEASE_SECS / 3:.0f}s, poll {POLL_SECS}s)")
        self.assert_leader(standby)
        # Not before the lease could have expired: the leader renewed at
        # most a renew period (D/3) before it died.
        self.assertGreaterEqual(failover, LEASE_SECS - LEASE_SECS / 3 - 0.5)
        # Worst case: the standby's next look comes a renew period after the
        # lease expired, then one cycle.
        self.assertLess(failover, LEASE_SECS + LEASE_SECS / 3 + POLL_SECS + 3)
        spec = self.standin.lease(NS, lease)["spec"]
        self.assertEqual(spec["holderIdentity"], standby.identity)
        self.assertEqual(spec["leaseTransitions"], 1)
        self.assertEqual(spec["leaseDurationSeconds"], LEASE_SECS)
        self.assertRegex(spec["renewTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

    def test_conflict_on_renew_is_survived(self):
        lease = "conflict"
        leader, standby = self.elect(lease)
        before = len(self.standin.seen(method="PUT", path=self._path(lease)))
        self.standin.fail_next_puts(2)
        wait_until(lambda: len(self.standin.seen(injected=True, path=self._path(lease))) == 2, 10,
                   "two renewals answered 409")
        # The leader read the lease again and renewed it: still the leader,
        # never interrupted, and the standby never wrote.
        deadline = time.monotonic() + LEASE_SECS
        while time.monotonic() < deadline:
            self.assertTrue(self.is_leader(leader))
            self.assertFalse(self.is_leader(standby))
            time.sleep(0.2)
        puts = self.standin.seen(method="PUT", path=self._path(lease))[before:]
        conflicts = [p for p in puts if p["injected"]]
        self.assertEqual(len(conflicts), 2)
        self.assertTrue(all(p["holder"] == leader.identity for p in puts), puts)
        after = [p for p in puts if p["t"] > conflicts[-1]["t"] and p["status"] == 200]
        self.assertTrue(after, "no successful renewal after the conflicts")
        gets = self.standin.seen(method="GET", path=self._path(lease))
        self.assertTrue(any(conflicts[0]["t"] < g["t"] < after[0]["t"] for g in gets), "no re-read after the 409")
        self.assertEqual(self.standin.holder(NS, lease), leader.identity)
        self.assertEqual(self.standin.lease(NS, lease)["spec"]["leaseTransitions"], 0)
        self.assert_leader(leader)
        self.assert_standby(standby)

    def test_api_unreachable_leader_steps_down_then_one_leads_again(self):
        lease = "outage"
        leader, standby = self.elect(lease)
        down = time.monotonic()
        self.standin.go_down("hang")
        try:
            wait_until(lambda: not self.serves_lag(leader), LEASE_SECS + GRACE_SECS, "the leader to stop serving lag")
            stepped_down = time.monotonic() - down
            print(f"\n  leader stopped serving lag {stepped_down:.2f}s after the API went silent "
                  f"(must be < {LEASE_SECS - GRACE_SECS}s + slack; a peer could take over after {LEASE_SECS}s)")
            # It trusts its last renew (sent at most D/3 before the outage)
            # for D - G, so it is off well before a peer could count the
            # lease expired.
            self.assertLess(stepped_down, LEASE_SECS - GRACE_SECS + 0.5)
            self.assertFalse(self.is_leader(leader))
            self.assertEqual(value(leader.metrics(), "kafka_lag_exporter_leader", provider="kubernetes"), 0)
            # Longer than a lease duration: nobody leads while nobody can
            # reach the API.
            while time.monotonic() - down < LEASE_SECS + 1.5:
                self.assertFalse(self.is_leader(leader))
                self.assertFalse(self.is_leader(standby))
                time.sleep(0.3)
        finally:
            self.standin.come_back()
        back = time.monotonic()
        wait_until(lambda: self.leader_of([leader, standby]) is not None, 15, "a leader once the API is back")
        new_leader = self.leader_of([leader, standby])
        wait_until(lambda: self.serves_lag(new_leader), 15, "the new leader to serve lag")
        print(f"  {new_leader.identity} serves lag {time.monotonic() - back:.2f}s after the API came back")
        self.assert_leader(new_leader)
        self.assert_standby(standby if new_leader is leader else leader)
        self.assertEqual(self.standin.holder(NS, lease), new_leader.identity)
        # The outage is logged once per replica, not on every retry.
        for e in (leader, standby):
            wait_until(lambda: "API server answers again" in e.log_text(), 10, f"{e.identity} to reach the API")
            log = e.log_text()
            self.assertEqual(log.count(f"{self._url(lease)}: "), 1, log[-3000:])
            self.assertEqual(log.count("API server answers again"), 1, log[-3000:])
            self.assertNotIn(TOKEN, log)

    def test_sigterm_releases_the_lease_to_the_peer(self):
        lease = "release"
        leader, standby = self.elect(lease)
        stopped = time.monotonic()
        leader.stop()  # SIGTERM; insists on a clean exit
        stop_took = time.monotonic() - stopped
        wait_until(lambda: self.is_leader(standby), LEASE_SECS, "the standby to take the released lease")
        takeover = time.monotonic() - stopped
        wait_until(lambda: self.serves_lag(standby), 15, "the new leader to serve lag")
        print(f"\n  leader exited {stop_took:.2f}s after SIGTERM; the peer led {takeover:.2f}s after it and "
              f"served lag {time.monotonic() - stopped:.2f}s after it (lease {LEASE_SECS}s)")
        # The peer reads every D/3 = 2 s and takes a released lease at once.
        self.assertLess(takeover, LEASE_SECS / 3 + 1.5)
        released = [p for p in self.standin.seen(method="PUT", path=self._path(lease), status=200)
                    if p["holder"] is None]
        self.assertEqual(len(released), 1, self.standin.seen(path=self._path(lease))[-5:])
        self.assertIn("released lease", leader.log_text())
        self.assert_leader(standby)
        self.assertEqual(self.standin.holder(NS, lease), standby.identity)
        self.assertEqual(self.standin.lease(NS, lease)["spec"]["leaseTransitions"], 1)

    def test_frozen_leader_does_not_claim_leadership_when_it_resumes(self):
        lease = "freeze"
        leader, standby = self.elect(lease)
        leader.proc.send_signal(signal.SIGSTOP)
        try:
            frozen = time.monotonic()
            wait_until(lambda: self.serves_lag(standby), LEASE_SECS + POLL_SECS + 10, "the standby to take over")
            print(f"\n  standby serves lag {time.monotonic() - frozen:.2f}s after the leader was frozen")
        finally:
            leader.proc.send_signal(signal.SIGCONT)
        # Its last renew is older than D - G: from the first answer on, and
        # whether or not its election thread has run yet, it is a standby.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            self.assertIs(self.is_leader(leader), False)
            self.assertFalse(self.serves_lag(leader))
            self.assertTrue(self.is_leader(standby))
            time.sleep(0.1)
        self.assert_standby(leader)
        self.assert_leader(standby)
        self.assertEqual(self.standin.holder(NS, lease), standby.identity)

    def _path(self, lease):
        return f"/apis/coordination.k8s.io/v1/namespaces/{NS}/leases/{lease}"

    def _url(self, lease):
        return self.standin.url + self._path(lease)


if __name__ == "__main__":
    unittest.main()
