"""A 3-node KRaft cluster (replication factor 3, min.insync.replicas 2) with
consumer groups on every node's coordinator, through the faults a production
cluster goes through: a preferred leader election that moves coordinators
while every broker stays up, a rolling restart, a SIGKILLed broker, a
SIGSTOPped broker, and a lost controller quorum.

For each, the exporter must stay alive, every lag it reports must equal what
Kafka's ConsumerGroupCommand reports, and every group must be back (new
commits visible) within 2 cycles once the cluster is whole again.

librdkafka 2.0.2 dereferenced a null consumer-group handle when an
OffsetFetch answered NOT_COORDINATOR, which is what the first old
coordinator says after a coordinator moved: the exporter segfaulted there
(docs/design.md, "Coordinator moves")."""

import threading
import time
import unittest

from klag_harness import Cluster, Exporter, KafkaTestCase, exporter_config, select, value, wait_until

TOPIC = "moves"
PARTITIONS = 6
RECORDS = 60
GROUPS = 30
POLL_S = 2


def group(i):
    return f"moves-g{i:02d}"


class Watcher:
    """Scrapes the exporter while a fault runs and checks every new
    snapshot: the process is alive, and every group_lag series it reports
    equals the expected (static) lag, and every group is there (a group
    whose coordinator is down is carried, for up to max_staleness, longer
    than any fault here)."""

    def __init__(self, test, exporter, expected):
        self.test, self.exporter, self.expected = test, exporter, expected
        self.errors, self.snapshots = [], 0
        self.min_groups = GROUPS
        self._stop = threading.Event()
        self._last_cycles = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            if self.exporter.proc.poll() is not None:
                self.errors.append(f"exporter exited with {self.exporter.proc.returncode}")
                return
            try:
                m = self.exporter.metrics()
            except Exception:  # noqa: BLE001 - a scrape may time out while the host is loaded
                time.sleep(0.3)
                continue
            cycles = sum(select(m, "kafka_lag_exporter_cycles_total").values())
            if cycles != self._last_cycles:
                self._last_cycles = cycles
                self.snapshots += 1
                seen = set()
                for labels, v in select(m, "kafka_consumergroup_group_lag").items():
                    d = dict(labels)
                    key = (d["group"], d["topic"], int(d["partition"]))
                    seen.add(d["group"])
                    if key in self.expected and v != self.expected[key]:
                        self.errors.append(f"cycle {cycles}: lag {key} = {v}, expected {self.expected[key]}")
                self.min_groups = min(self.min_groups, len(seen))
            time.sleep(0.3)

    def stop(self):
        self._stop.set()
        self._thread.join(10)
        self.test.assertEqual(self.errors, [], "wrong lag or a dead exporter during the fault")
        self.test.assertGreater(self.snapshots, 0)
        # Every fault here is shorter than max_staleness: a group whose
        # coordinator is away is carried, so no snapshot may lose one.
        self.test.assertEqual(self.min_groups, GROUPS, "a snapshot during the fault lacked some groups")


class CoordinatorMoves(KafkaTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = Cluster(3)
        cls.broker.workload("create-topic", "--topic", TOPIC, "--partitions", str(PARTITIONS), "--replication", "-1")
        cls.broker.produce(TOPIC, RECORDS)
        cls.round = 0
        cls._commit_all()
        # Groups on every node's coordinator, or the test proves nothing.
        coordinators = cls.broker.coordinators()
        cls.coordinators = {g: c for g, c in coordinators.items() if g.startswith("moves-g")}
        if set(cls.coordinators.values()) != {1, 2, 3}:
            raise AssertionError(f"groups do not cover every coordinator: {cls.coordinators}")
        cls.exporter = Exporter(exporter_config(cls.broker.bootstrap, cluster="c3", poll_interval=f"{POLL_S}s",
                                                exporter_extra='max_staleness = "120s"'),
                                extra_args=["-l", "debug"])

    @classmethod
    def _commit_all(cls):
        """Commits a new offset on every partition of every group (a
        different lag per group, partition and round)."""
        cls.round += 1
        for i in range(GROUPS):
            cls.broker.commit(group(i), [(TOPIC, p, (i + p + cls.round) % RECORDS) for p in range(PARTITIONS)])
        cls.expected = {(group(i), TOPIC, p): float(RECORDS - (i + p + cls.round) % RECORDS)
                        for i in range(GROUPS) for p in range(PARTITIONS)}

    def scrape(self):
        """(cycles run, {(group, topic, partition): lag}) from one scrape."""
        m = self.exporter.metrics()
        lags = {}
        for labels, v in select(m, "kafka_consumergroup_group_lag").items():
            d = dict(labels)
            lags[(d["group"], d["topic"], int(d["partition"]))] = v
        return sum(select(m, "kafka_lag_exporter_cycles_total").values()), lags

    def assert_back_within_two_cycles(self):
        """New commits on every group; the exporter shows all of them within
        two cycles, and they equal ConsumerGroupCommand's LAG."""
        self._commit_all()
        start, _ = self.scrape()
        seen = {}

        def caught_up():
            seen["cycles"], lags = self.scrape()
            return lags == self.expected
        wait_until(caught_up, 8 * POLL_S + 30, "every group's new offsets")
        # The cycle running when the last commit landed may have read the
        # offsets before it; the next one must have them.
        took = seen["cycles"] - start
        self.assertLessEqual(took, 2, f"groups came back only after {took} cycles")
        reference = self.broker.consumer_groups()
        theirs = {k: float(r["LAG"]) for k, r in reference.items() if k[0].startswith("moves-g")}
        self.assertEqual(self.scrape()[1], theirs)
        self.assertIsNone(self.exporter.proc.poll())

    def during(self, fault):
        w = Watcher(self, self.exporter, dict(self.expected))
        try:
            fault()
        finally:
            w.stop()
        return w

    def elect_preferred(self):
        """Preferred leaders for every partition, __consumer_offsets
        included (so coordinators move). A node just restarted is not in
        every ISR yet ("preferred leader not available"): retried."""
        def elect():
            self.broker.tool("org.apache.kafka.tools.LeaderElectionCommand", "--bootstrap-server",
                             self.broker.bootstrap, "--election-type", "PREFERRED", "--all-topic-partitions")
            return True
        wait_until(elect, 60, "a preferred leader election", interval=2)

    def test_1_preferred_leader_election(self):
        """Node 1's coordinators move to nodes 2 and 3 (controlled
        shutdown); the exporter learns them; node 1 returns and a preferred
        leader election moves them back while 2 and 3 stay up: the old
        coordinators answer NOT_COORDINATOR."""
        self.assert_back_within_two_cycles()

        def fault():
            self.broker.stop_node(1)
            time.sleep(3 * POLL_S)
            self.broker.restart_node(1)
            time.sleep(2 * POLL_S)
            self.elect_preferred()
            time.sleep(3 * POLL_S)
            self.elect_preferred()  # anything left over
            time.sleep(2 * POLL_S)
        self.during(fault)
        self.assert_back_within_two_cycles()

    def test_2_rolling_restart(self):
        def fault():
            for node in (1, 2, 3):
                self.broker.stop_node(node)
                time.sleep(2 * POLL_S)
                self.broker.restart_node(node)
                time.sleep(2 * POLL_S)
            self.elect_preferred()
            time.sleep(2 * POLL_S)
        self.during(fault)
        self.assert_back_within_two_cycles()

    def test_3_sigkill_busiest_coordinator(self):
        counts = {}
        for c in self.broker.coordinators().values():
            counts[c] = counts.get(c, 0) + 1
        busiest = max(counts, key=counts.get)

        def fault():
            self.broker.kill_node(busiest)
            time.sleep(5 * POLL_S)
            self.broker.restart_node(busiest)
            self.elect_preferred()
            time.sleep(2 * POLL_S)
        self.during(fault)
        self.assert_back_within_two_cycles()

    def test_4_sigstop_one_broker_40s(self):
        """A frozen broker (one of three) must not fail the cluster's cycles:
        the other brokers' answers are used, the frozen one's groups and
        partitions are partial errors."""
        def failures():
            return value(self.exporter.metrics(), "kafka_lag_exporter_cycle_failures_total", cluster_name="c3")
        seen = {}

        def fault():
            before = failures()
            self.broker.pause_node(2)
            try:
                time.sleep(40)
                seen["up"] = value(self.exporter.metrics(), "kafka_lag_exporter_up", cluster_name="c3")
                seen["failed"] = failures() - before
            finally:
                self.broker.resume_node(2)
            time.sleep(2 * POLL_S)
        self.during(fault)
        self.assertEqual(seen, {"up": 1, "failed": 0})
        self.assert_back_within_two_cycles()

    def test_5_quorum_loss(self):
        """Two of three nodes killed: no controller quorum, and the third
        node cannot serve what needs the others."""
        def fault():
            self.broker.kill_node(2)
            self.broker.kill_node(3)
            time.sleep(6 * POLL_S)
            self.broker.restart_node(2)
            self.broker.restart_node(3)
            self.elect_preferred()
            time.sleep(2 * POLL_S)
        self.during(fault)
        self.assert_back_within_two_cycles()

    def test_6_single_bootstrap_address_outlives_its_broker(self):
        """An exporter given only node 1's address keeps the cluster up
        while node 1 is dead: a replaced admin client bootstraps from the
        brokers metadata named, not only from the one configured address."""
        single = Exporter(exporter_config(self.broker.node_bootstrap[0], cluster="one", poll_interval=f"{POLL_S}s",
                                          exporter_extra='max_staleness = "120s"'),
                          extra_args=["-l", "debug"])
        try:
            wait_until(lambda: value(single.metrics(), "kafka_lag_exporter_up", cluster_name="one") == 1, 30,
                       "the single-address exporter's first cycle")
            self.assertIn("bootstrap_servers names one of its 3 brokers", single.log_text())
            logged_before_kill = len(single.log_text())
            self.broker.kill_node(1)
            try:
                # Long enough for requests to node 1 to time out and the
                # admin client to be replaced.
                time.sleep(8 * POLL_S)
                wait_until(lambda: "replaced the admin client" in single.log_text()[logged_before_kill:], 30,
                           "an admin client replaced while node 1 is dead")
                start = sum(select(single.metrics(), "kafka_lag_exporter_cycles_total").values())
                wait_until(lambda: sum(select(single.metrics(), "kafka_lag_exporter_cycles_total").values())
                           >= start + 3, 30, "three more cycles")
                m = single.metrics()
                self.assertEqual(value(m, "kafka_lag_exporter_up", cluster_name="one"), 1,
                                 "the cluster went down with its one bootstrap broker")
                lags = {}
                for labels, v in select(m, "kafka_consumergroup_group_lag", cluster_name="one").items():
                    d = dict(labels)
                    lags[(d["group"], d["topic"], int(d["partition"]))] = v
                self.assertEqual(lags, self.expected)
            finally:
                self.broker.restart_node(1)
            self.assertIsNone(single.proc.poll())
        finally:
            single.stop()
        self.elect_preferred()
        self.assert_back_within_two_cycles()


if __name__ == "__main__":
    unittest.main()
