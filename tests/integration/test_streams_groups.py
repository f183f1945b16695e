"""Kafka Streams groups (issue 19, part 4) with a real Kafka Streams
application (tools/kafka/streams/KlagStreamsApp.java, built against the
broker version's kafka-streams jar): one on the classic protocol and, on
Kafka 4.2 and later, one on group.protocol=streams (KIP-1071). The Streams
group's protocol type is "streams", so librdkafka 2.0.2's
ListConsumerGroups drops it and only the exporter's census (every group of
every type, kafka/group_census.h) finds it; before that, it had no series
at all. Its lag must equal what Kafka's own StreamsGroupCommand
(kafka-streams-groups.sh) reports, the classic one's what
ConsumerGroupCommand reports. A share group (KIP-932) on the same topic
must not show: share groups stay out (docs/metrics.md).

The lag is made fixed and known: each app copies the input topic and
commits; then a gate file makes it hold the next record it gets, so it
commits nothing more while it stays a live member, and 10, 20 and 30
records are produced to partitions 0, 1 and 2."""

import os
import subprocess
import tempfile
import time
import unittest

import test_group_listing
import test_kip848_groups
from klag_harness import (KAFKA_LOCAL, Broker, Exporter, KafkaTestCase, cycle_line, exporter_config, select, value,
                          wait_until)
from test_kip848_groups import kafka_version

IN, OUT = "ks-in", "ks-out"
CLASSIC, STREAMS, SHARE = "ks-classic", "ks-streams", "ks-share"
EXTRA = {0: 10, 1: 20, 2: 30}  # records produced per partition once the apps hold
STREAMS_GROUP_COMMAND = "org.apache.kafka.tools.streams.StreamsGroupCommand"
SHARE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleShareConsumer"
GROUPS_COMMAND = "org.apache.kafka.tools.GroupsCommand"


def ours(m, group):
    """(state label, numeric state, members or None when absent)."""
    return test_kip848_groups.ours(m, group, cluster="ks")


def tool(*args, timeout=120):
    res = subprocess.run([KAFKA_LOCAL, "tool", *args], capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {res.stderr[-3000:]}")
    return res.stdout


def table(text, first_column="GROUP"):
    """Rows of a whitespace-separated table with a header line, as dicts."""
    rows, header = [], None
    for line in text.splitlines():
        cols = line.split()
        if cols and cols[0] == first_column:
            header = cols
        elif header and len(cols) == len(header):
            rows.append(dict(zip(header, cols)))
    return rows


class StreamsGroupsTest(KafkaTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        version = tuple(int(x) for x in kafka_version().split(".")[:2])
        # The streams protocol and share groups are on by default from 4.2.
        cls.new_groups = version >= (4, 2)
        cls.apps = {CLASSIC: "classic"}
        if cls.new_groups:
            cls.apps[STREAMS] = "streams"
        b = cls.broker = Broker()
        cls.tmp = tempfile.mkdtemp(prefix="streams-", dir=b.state_dir)
        b.create_topic(IN, 3)
        b.create_topic(OUT, 3)
        b.produce(IN, 100)
        for group, protocol in cls.apps.items():
            cls.start_app(group, protocol)
        wait_until(lambda: cls.committed() == {(g, p): 100 for g in cls.apps for p in range(3)}, 90,
                   "every app to copy and commit the first 100 records of each partition", interval=1)
        for group in cls.apps:
            open(cls.gate(group), "w").close()
        for p, n in EXTRA.items():
            b.workload("produce", "--topic", IN, "--count", str(n), "--partition", str(p))
        if cls.new_groups:
            # It reads from the end of the log on (share.auto.offset.reset
            # latest): it only has to be a member.
            cls.procs.append(subprocess.Popen([KAFKA_LOCAL, "tool", SHARE_CONSUMER, "--bootstrap-server", b.bootstrap,
                                               "--topic", IN, "--group", SHARE],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                              start_new_session=True))
            wait_until(lambda: cls.group_types().get(SHARE) == "Share", 60, "the share group to exist", interval=1)
        cls.exporter = Exporter(exporter_config(b.bootstrap, "ks", cluster_extra='group_whitelist = ["ks-.*"]'),
                                extra_args=("-l", "debug"))
        # Every app's group reported (any value): the tests compare values.
        wait_until(lambda: {g for g, _ in cls.our_lag(cls.exporter.metrics())} == set(cls.apps), 30,
                   "a lag series of every app's group")

    @classmethod
    def group_types(cls):
        """{group: TYPE} from Kafka's GroupsCommand --list (kafka-groups.sh)."""
        out = tool(GROUPS_COMMAND, "--bootstrap-server", cls.broker.bootstrap, "--list")
        return {r["GROUP"]: r["TYPE"] for r in table(out)}

    @classmethod
    def gate(cls, group):
        return os.path.join(cls.tmp, f"{group}.gate")

    @classmethod
    def start_app(cls, group, protocol):
        log = open(os.path.join(cls.tmp, f"{group}.log"), "w")
        proc = subprocess.Popen([KAFKA_LOCAL, "streams-app", cls.broker.bootstrap, group, IN, OUT, protocol,
                                 cls.gate(group), os.path.join(cls.tmp, f"{group}.state")],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        cls.procs.append(proc)

    @classmethod
    def streams_rows(cls):
        """StreamsGroupCommand --describe --offsets --verbose rows of the
        Streams group: CURRENT-OFFSET, LOG-END-OFFSET, OFFSET-LAG."""
        out = tool(STREAMS_GROUP_COMMAND, "--bootstrap-server", cls.broker.bootstrap, "--describe", "--group",
                   STREAMS, "--offsets", "--verbose")
        return {(r["TOPIC"], int(r["PARTITION"])): r for r in table(out) if r["GROUP"] == STREAMS}

    @classmethod
    def committed(cls):
        """{(group, partition): committed offset on IN} from Kafka's tools."""
        out = {}
        for (g, t, p), row in cls.broker.consumer_groups().items():
            if g == CLASSIC and t == IN and row["CURRENT-OFFSET"] != "-":
                out[(g, p)] = int(row["CURRENT-OFFSET"])
        if STREAMS in cls.apps:
            for (t, p), row in cls.streams_rows().items():
                if t == IN and row["CURRENT-OFFSET"] != "-":
                    out[(STREAMS, p)] = int(row["CURRENT-OFFSET"])
        return out

    def reference_lag(self):
        """{(group, partition): lag} as Kafka's own tools report it."""
        lag = {}
        for (g, t, p), row in self.broker.consumer_groups().items():
            if g == CLASSIC and t == IN:
                lag[(g, p)] = int(row["LAG"])
        if STREAMS in self.apps:
            for (t, p), row in self.streams_rows().items():
                if t == IN:
                    lag[(STREAMS, p)] = int(row["OFFSET-LAG"])
        return lag

    @classmethod
    def our_lag(cls, m):
        lag = {}
        for g in cls.apps:
            for labels, v in select(m, "kafka_consumergroup_group_lag", cluster_name="ks", group=g,
                                    topic=IN).items():
                lag[(g, int(dict(labels)["partition"]))] = int(v)
        return lag

    def test_a_lag_equals_kafkas_tools(self):
        expected = {(g, p): n for g in self.apps for p, n in EXTRA.items()}
        self.assertEqual(self.reference_lag(), expected, "the apps did not hold (the test's premise)")
        last = {}

        def same():
            last["ours"] = self.our_lag(self.exporter.metrics())
            return last["ours"] == expected
        try:
            wait_until(same, 30, "our lag to equal StreamsGroupCommand's and ConsumerGroupCommand's", interval=1)
        except AssertionError:
            self.fail(f"ours {last.get('ours')}, Kafka's tools {expected}")
        # Kafka's tools again: nothing moved meanwhile.
        self.assertEqual(self.reference_lag(), expected)

    def test_b_states_and_members(self):
        m = self.exporter.metrics()
        # A classic Streams group is an ordinary consumer group, described.
        ref = test_group_listing.cgc_state(self.broker.bootstrap)[CLASSIC]
        self.assertEqual((ref["STATE"], ref["#MEMBERS"]), ("Stable", 1))
        self.assertEqual(ours(m, CLASSIC), ("Stable", [3], 1))
        if STREAMS in self.apps:
            # Neither its state nor its members can be read with librdkafka
            # 2.0.2 (no StreamsGroupDescribe): Unknown, no members series,
            # never Dead.
            self.assertEqual(ours(m, STREAMS), ("Unknown", [0], None))
            members = {(dict(k)["consumer_id"], dict(k)["client_id"])
                       for k in select(m, "kafka_consumergroup_group_lag", group=STREAMS)}
            self.assertEqual(members, {("", "")})
            self.assertEqual(list(select(m, "kafka_consumergroup_group_sum_lag", cluster_name="ks",
                                         group=STREAMS).values()), [60])

    def test_c_share_group_stays_out(self):
        if not self.new_groups:
            self.skipTest("share groups are on by default from Kafka 4.2")
        # The premise: Kafka lists the share group, and it passes our filter.
        listed = self.group_types()
        self.assertEqual(listed.get(SHARE), "Share")
        self.assertEqual(listed.get(STREAMS), "Streams")
        time.sleep(2.5)  # two more cycles with the share group listed
        text = self.exporter.metrics_text()
        self.assertFalse(f'group="{SHARE}"' in text, "a series of the share group")
        self.assertTrue(f'group="{STREAMS}"' in text, "no series of the Streams group")

    def test_d_cycles_stay_complete(self):
        # The census answers within every cycle's listing step: no partial
        # errors over three cycles (counted from now: the first cycle, with
        # JVMs starting beside it, may have been slow).
        def partial_list_groups():
            return value(self.exporter.metrics(), "kafka_lag_exporter_cycle_partial_errors_total", cluster_name="ks",
                         kind="list_groups")
        before = partial_list_groups()
        seen = len(cycle_line("ks").findall(self.exporter.log_text()))
        wait_until(lambda: len(cycle_line("ks").findall(self.exporter.log_text())) >= seen + 3, 20,
                   "three more cycles")
        cycles = cycle_line("ks").findall(self.exporter.log_text())
        self.assertEqual([c for c in cycles[-3:] if c[1] != "ok"], [])
        self.assertEqual(partial_list_groups(), before)


if __name__ == "__main__":
    unittest.main()
