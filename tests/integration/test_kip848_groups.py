"""KIP-848 groups (issue 19, part 4) with the real Java consumer from the
broker's jars (Kafka's ConsoleConsumer): a group on group.protocol=consumer,
one on classic, and a mixed group (a classic member, then a consumer member
joins: the broker upgrades the group online), all live, with committed
offsets and lag. librdkafka 2.0.2 cannot describe the new-protocol groups
(DescribeGroups answers Dead with no members); the exporter must never say
Dead for them, must report the state ConsumerGroupCommand --describe --state
reports or Unknown, the member count it reports or no members series, and
the lag it reports. Then the consumer group is made to reconcile (its member
is stopped, a second one joins): Kafka's state is Reconciling, which
librdkafka has no name for, so ours is Unknown, with no members series.

Kafka 3.9 serves the consumer protocol only with
group.coordinator.rebalance.protocols=classic,consumer, and lets a consumer
member join a classic group with members (the mixed group) only with
group.consumer.migration.policy=bidirectional (without it the member fails
with "Group ... is not a consumer group"); Kafka 4 does both by default."""

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import test_group_listing
from klag_harness import KAFKA_LOCAL, Broker, Exporter, KafkaTestCase, cycle_line, exporter_config, select, wait_until

TOPIC = "kp"
COMMITS = [(TOPIC, 0, 10), (TOPIC, 1, 20), (TOPIC, 2, 30)]  # of 100 records per partition
CONSUMER, CLASSIC, MIXED = "kp-consumer", "kp-classic", "kp-mixed"
GROUPS = (CONSUMER, CLASSIC, MIXED)
CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer"
# kafka_consumergroup_group_state (docs/metrics.md)
STATE_CODES = {"Unknown": 0, "PreparingRebalance": 1, "CompletingRebalance": 2, "Stable": 3, "Dead": 4, "Empty": 5,
               "Assigning": 6, "Reconciling": 7}


def kafka_version():
    """The version kafka-local.sh runs: KAFKA_VERSION, else its default."""
    if os.environ.get("KAFKA_VERSION"):
        return os.environ["KAFKA_VERSION"]
    with open(KAFKA_LOCAL) as f:
        return re.search(r'KAFKA_VERSION="\$\{KAFKA_VERSION:-([0-9.]+)\}"', f.read()).group(1)


def ours(m, group, cluster="kp"):
    """(state label, numeric state, members or None when absent)."""
    info = select(m, "kafka_consumergroup_group_info", cluster_name=cluster, group=group)
    if len(info) != 1:
        return None
    state = dict(next(iter(info)))["state"]
    code = list(select(m, "kafka_consumergroup_group_state", cluster_name=cluster, group=group).values())
    members = list(select(m, "kafka_consumergroup_group_members", cluster_name=cluster, group=group).values())
    return state, code, (int(members[0]) if members else None)


class Kip848GroupsTest(KafkaTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kafka4 = int(kafka_version().split(".")[0]) >= 4
        props = () if cls.kafka4 else ("group.coordinator.rebalance.protocols=classic,consumer",
                                        "group.consumer.migration.policy=bidirectional")
        b = cls.broker = Broker(props=props)
        cls.tmp = tempfile.mkdtemp(prefix="kip848-", dir=b.state_dir)
        b.create_topic(TOPIC, 3)
        b.produce(TOPIC, 100)
        # Offsets first, so the lag stays put: the members below read on but
        # never commit (enable.auto.commit=false).
        for g in GROUPS:
            b.commit(g, COMMITS)
        cls.exporter = Exporter(exporter_config(b.bootstrap, "kp",
                                                exporter_extra="[exporter.timestamp_sampling]\nenabled = false",
                                                cluster_extra='group_whitelist = ["kp-.*"]'),
                                extra_args=("-l", "debug"))
        # Every scrape from now on, by a thread: (time, group, state, code, members).
        cls.seen = []
        cls.stop_recording = threading.Event()
        cls.recorder = threading.Thread(target=cls.record, daemon=True)
        cls.recorder.start()
        cls.addClassCleanup(cls.recorder.join, 10)
        cls.addClassCleanup(cls.stop_recording.set)

        cls.member = {}
        cls.member["consumer"] = cls.console_consumer(CONSUMER, "consumer", "kp-c1")
        cls.member["classic"] = cls.console_consumer(CLASSIC, "classic", "kp-k1")
        cls.member["mixed-classic"] = cls.console_consumer(MIXED, "classic", "kp-m1")
        for name in ("consumer", "classic", "mixed-classic"):
            cls.wait_consuming(cls.member[name])
        cls.member["mixed-consumer"] = cls.console_consumer(MIXED, "consumer", "kp-m2")
        cls.wait_consuming(cls.member["mixed-consumer"])

        def all_live():
            ref = test_group_listing.cgc_state(b.bootstrap)
            return all(ref.get(g, {}).get("STATE") == "Stable" for g in GROUPS) and ref[MIXED]["#MEMBERS"] == 2
        wait_until(all_live, 60, "the three groups Stable in ConsumerGroupCommand", interval=1)
        cls.live_since = time.time()

    @classmethod
    def record(cls):
        while not cls.stop_recording.wait(0.3):
            try:
                m = cls.exporter.metrics()
            except Exception:  # noqa: BLE001 - an exporter that stopped
                continue
            now = time.time()
            for g in GROUPS:
                o = ours(m, g)
                if o is not None:
                    cls.seen.append((now, g, *o))

    @classmethod
    def console_consumer(cls, group, protocol, client_id):
        """A Java consumer that joins `group` with `protocol` and reads from
        the committed offsets on, never committing; its records go to a file
        (stdout), so its first line means it has an assignment."""
        out = open(os.path.join(cls.tmp, f"{client_id}.out"), "w")
        err = open(os.path.join(cls.tmp, f"{client_id}.err"), "w")
        proc = subprocess.Popen([KAFKA_LOCAL, "tool", CONSOLE_CONSUMER, "--bootstrap-server", cls.broker.bootstrap,
                                 "--topic", TOPIC, "--group", group,
                                 "--consumer-property", f"group.protocol={protocol}",
                                 "--consumer-property", f"client.id={client_id}",
                                 "--consumer-property", "enable.auto.commit=false"],
                                stdout=out, stderr=err, start_new_session=True)
        out.close()
        err.close()
        proc.client_id = client_id
        cls.procs.append(proc)
        return proc

    @classmethod
    def wait_consuming(cls, proc):
        path = os.path.join(cls.tmp, f"{proc.client_id}.out")

        def consuming():
            if proc.poll() is not None:
                with open(os.path.join(cls.tmp, f"{proc.client_id}.err")) as f:
                    raise AssertionError(f"{proc.client_id} exited with {proc.returncode}: {f.read()[-3000:]}")
            return os.path.getsize(path) > 0
        try:
            wait_until(consuming, 60, f"{proc.client_id} to consume", interval=0.5)
        except AssertionError as e:
            raise RuntimeError(str(e)) from None

    def check_against_reference(self, groups, undescribed):
        """One round: ConsumerGroupCommand (--state, then --describe for the
        lag), our scrape in between. Returns a list of differences."""
        ref = test_group_listing.cgc_state(self.broker.bootstrap)
        m = self.exporter.metrics()
        rows = self.broker.consumer_groups()
        diffs = []
        for g in groups:
            o = ours(m, g)
            if o is None:
                diffs.append(f"{g}: no group_info")
                continue
            state, code, members = o
            if state == "Dead":
                diffs.append(f"{g}: Dead")
            if state not in (ref[g]["STATE"], "Unknown"):
                diffs.append(f"{g}: state {state}, ConsumerGroupCommand {ref[g]['STATE']}")
            if code != [STATE_CODES[state]]:
                diffs.append(f"{g}: group_state {code} for {state}")
            if members is not None and members != ref[g]["#MEMBERS"]:
                diffs.append(f"{g}: members {members}, ConsumerGroupCommand {ref[g]['#MEMBERS']}")
            if (members is None) != (g in undescribed):
                diffs.append(f"{g}: members series {'absent' if members is None else 'present'}")
            for t, p, _ in COMMITS:
                row = rows.get((g, t, p))
                series = select(m, "kafka_consumergroup_group_lag", cluster_name="kp", group=g, topic=t, partition=p)
                if row is None or len(series) != 1:
                    diffs.append(f"{g} {t}/{p}: ConsumerGroupCommand row {row}, our series {series}")
                    continue
                labels, lag = next(iter(series.items()))
                labels = dict(labels)
                if lag != int(row["LAG"]):
                    diffs.append(f"{g} {t}/{p}: lag {lag}, ConsumerGroupCommand {row['LAG']}")
                member = (labels["consumer_id"], labels["client_id"])
                expected = ("", "") if g in undescribed else (row["CONSUMER-ID"], row["CLIENT-ID"])
                if member != expected:
                    diffs.append(f"{g} {t}/{p}: member {member}, expected {expected}")
        return diffs, ref, m

    def assert_never_dead_or_no_members_while_live(self, since):
        seen = [s for s in self.seen if s[0] >= since]
        self.assertTrue(seen)
        self.assertEqual([s for s in seen if s[2] == "Dead" or s[3] == [4]], [])
        self.assertEqual([s for s in seen if s[4] == 0], [])

    def test_a_live_groups_equal_consumer_group_command(self):
        last = []

        def matches():
            diffs, ref, m = self.check_against_reference(GROUPS, undescribed={CONSUMER, MIXED})
            last[:] = diffs
            return not diffs
        try:
            wait_until(matches, 30, "state, members and lag as ConsumerGroupCommand reports them", interval=1)
        except AssertionError:
            self.fail(f"differences: {last}")
        m = self.exporter.metrics()
        # Stable is what the listing says and what we report; the classic
        # group is fully described.
        self.assertEqual(ours(m, CONSUMER), ("Stable", [3], None))
        self.assertEqual(ours(m, MIXED), ("Stable", [3], None))
        self.assertEqual(ours(m, CLASSIC), ("Stable", [3], 1))
        sums = {g: list(select(m, "kafka_consumergroup_group_sum_lag", cluster_name="kp", group=g).values())
                for g in GROUPS}
        self.assertEqual(sums, {g: [90 + 80 + 70] for g in GROUPS})
        self.assert_never_dead_or_no_members_while_live(self.live_since)

    def test_b_undescribable_groups_are_not_partial_errors(self):
        log = self.exporter.log_text()
        cycles = cycle_line("kp").findall(log)
        self.assertGreater(len(cycles), 3)
        self.assertEqual([c for c in cycles[-3:] if c[1] != "ok"], [])
        self.assertTrue("cluster kp: 2 groups listed live but described Dead with no members" in log,
                        "no debug line about the groups librdkafka cannot describe")

    def test_z_a_reconciling_group_is_unknown(self):
        # Runs last (name): it changes kp-consumer. A stopped member cannot
        # give up partitions, so when a second member joins the group stays
        # Reconciling until the first one resumes (or its 45 s session ends).
        first = self.member["consumer"]
        os.killpg(first.pid, signal.SIGSTOP)
        try:
            second = self.console_consumer(CONSUMER, "consumer", "kp-c2")
            unknown_while_reconciling = []

            def reconciling():
                diffs, ref, m = self.check_against_reference([CONSUMER], undescribed={CONSUMER})
                self.assertEqual(diffs, [])
                if ref[CONSUMER]["STATE"] in ("Assigning", "Reconciling") and ours(m, CONSUMER)[0] == "Unknown":
                    unknown_while_reconciling.append(ref[CONSUMER])
                return bool(unknown_while_reconciling)
            wait_until(reconciling, 38, "kp-consumer Reconciling in ConsumerGroupCommand and Unknown here", interval=1)
            self.assertEqual(ours(self.exporter.metrics(), CONSUMER), ("Unknown", [0], None))
        finally:
            os.killpg(first.pid, signal.SIGCONT)
        self.wait_consuming(second)

        def stable_again():
            diffs, ref, m = self.check_against_reference(GROUPS, undescribed={CONSUMER, MIXED})
            return (not diffs and (ref[CONSUMER]["STATE"], ref[CONSUMER]["#MEMBERS"]) == ("Stable", 2)
                    and ours(m, CONSUMER)[0] == "Stable")
        wait_until(stable_again, 30, "kp-consumer Stable with 2 members", interval=1)
        self.assert_never_dead_or_no_members_while_live(self.live_since)


if __name__ == "__main__":
    unittest.main()
