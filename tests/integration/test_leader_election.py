"""Leader election through Kafka's group coordinator (provider = "kafka"):
two or three exporter replicas, exactly one leads; killing, freezing and
stopping the leader hands leadership over without ever having two."""

import json
import signal
import time
import unittest

from klag_harness import Broker, Exporter, exporter_config, free_port, select, value, wait_until

SESSION_S = 6  # the broker's default group.min.session.timeout.ms


def config(bootstrap, identity):
    return exporter_config(bootstrap, "main", exporter_extra=f"""
[exporter.leadership]
enabled = true
provider = "kafka"
identity = "{identity}"
group = "le-leader"
topic = "__le_leader"
session_timeout = "{SESSION_S}s"
""", cluster_extra='group_whitelist = ["le-app", "le-leader"]')


def is_leader(e):
    status, body, _ = e.get("/leader")
    return status == 200 and json.loads(body)["is_leader"]


def serves_lag(e):
    try:
        m = e.metrics()
    except RuntimeError:
        return False
    return list(select(m, "kafka_consumergroup_group_lag", cluster_name="main", group="le-app", topic="le-topic",
                       partition=0).values()) == [7.0]


class LeaderElectionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker()
        cls.broker.create_topic("le-topic", 1)
        cls.broker.produce("le-topic", 10)
        cls.broker.commit("le-app", [("le-topic", 0, 3)])
        cls.replicas = {}

    @classmethod
    def tearDownClass(cls):
        for e in cls.replicas.values():
            e.stop()
        cls.broker.purge()

    def start(self, name):
        e = Exporter(config(self.broker.bootstrap, name), extra_args=("-l", "debug"))
        self.replicas[name] = e
        return e

    def assert_standby(self, e):
        m = e.metrics()
        self.assertEqual(value(m, "kafka_lag_exporter_leader", provider="kafka"), 0)
        self.assertFalse([k for k in m if "cluster_name" in dict(k[1])], "a standby serves no cluster series")
        status, body, _ = e.get("/ready")
        self.assertEqual(status, 503)
        self.assertIn(b"standby", body)
        self.assertFalse(is_leader(e))

    def assert_leader(self, e):
        m = e.metrics()
        self.assertEqual(value(m, "kafka_lag_exporter_leader", provider="kafka"), 1)
        self.assertTrue(serves_lag(e))
        self.assertEqual(e.get("/ready")[0], 200)
        self.assertTrue(is_leader(e))

    def test_election_failover_freeze_and_handover(self):
        a, b = self.start("replica-a"), self.start("replica-b")
        wait_until(lambda: is_leader(a) or is_leader(b), 40, "a leader")
        wait_until(lambda: serves_lag(a) or serves_lag(b), 20, "the leader's lag")
        leader, standby = (a, b) if is_leader(a) else (b, a)
        # Exactly one, steadily: the sticky assignor keeps partition 0 put.
        for _ in range(10):
            self.assertNotEqual(is_leader(a), is_leader(b))
            time.sleep(0.2)
        self.assert_leader(leader)
        self.assert_standby(standby)
        # Kafka sees both replicas in the coordination group.
        wait_until(lambda: value(leader.metrics(), "kafka_consumergroup_group_members", cluster_name="main",
                                 group="le-leader") == 2, 10, "two members in the coordination group")

        # 1. SIGKILL the leader: the standby takes over after the session
        # timeout, with fresh data within one more cycle.
        t0 = time.monotonic()
        leader.kill()
        wait_until(lambda: is_leader(standby) and serves_lag(standby), 30, "failover after SIGKILL")
        failover = time.monotonic() - t0
        print(f"\nfailover after SIGKILL: {failover:.1f}s (session timeout {SESSION_S}s, poll 1s)")
        self.assertLess(failover, 20)
        self.assertGreater(failover, SESSION_S / 2, "took over before the dead leader's session could expire")
        self.assert_leader(standby)

        # 2. Freeze the leader past its session: a third replica takes over,
        # and the frozen one, once resumed, does not publish lag again.
        c = self.start("replica-c")
        wait_until(lambda: c.get("/leader")[0] == 200, 10, "replica c serving")
        time.sleep(3)  # c joins the group
        self.assertTrue(is_leader(standby))
        self.assertFalse(is_leader(c))
        frozen = standby
        frozen.proc.send_signal(signal.SIGSTOP)
        try:
            wait_until(lambda: is_leader(c) and serves_lag(c), 30, "c to take over from the frozen leader")
        finally:
            frozen.proc.send_signal(signal.SIGCONT)
        # From the first answer after resuming, the old leader stands by.
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            f_leader, c_leader = is_leader(frozen), is_leader(c)
            self.assertFalse(f_leader and c_leader, "two leaders after SIGCONT")
            self.assertFalse(serves_lag(frozen), "the resumed replica published lag after its session expired")
            self.assertTrue(c_leader)
            time.sleep(0.2)
        self.assert_standby(frozen)
        self.assertIn("not polled for", frozen.log_text())

        # 3. SIGTERM the leader: it leaves the group, so the standby takes
        # over without waiting for a session timeout.
        t0 = time.monotonic()
        c.stop()
        wait_until(lambda: is_leader(frozen) and serves_lag(frozen), 30, "handover after SIGTERM")
        handover = time.monotonic() - t0
        print(f"handover after SIGTERM: {handover:.1f}s")
        self.assertLess(handover, SESSION_S)
        self.assert_leader(frozen)

    def test_unreachable_coordination_cluster(self):
        # No broker listens there: nobody can lead, the replica says so, stays
        # healthy, and still stops promptly although it is busy joining.
        e = Exporter(config(f"127.0.0.1:{free_port()}", "lonely"))
        try:
            time.sleep(2)
            self.assert_standby(e)
            self.assertEqual(e.get("/health")[0], 200)
            wait_until(lambda: "cannot join" in e.log_text(), 25, "the failed join to be logged")
            time.sleep(1)  # into the next attempt
        finally:
            t0 = time.monotonic()
            e.stop()
            took = time.monotonic() - t0
        print(f"\nstop while joining an unreachable cluster: {took:.2f}s")
        self.assertLess(took, 2.5)


if __name__ == "__main__":
    unittest.main()
