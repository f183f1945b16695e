"""Groups that ListGroups reports Empty skip DescribeGroups (issue 6): on a
real broker their exported state, assignor, member count, member labels and
lag must be what describing them gives, checked against Kafka's own
ConsumerGroupCommand (--describe --state): a simple group (offsets
committed, never a member), a classic group whose member left, and on Kafka
4 a KIP-848 group whose consumer exited. A member that joins later is seen
at the next cycle: nothing is remembered from the listing."""

import os
import subprocess
import unittest

from klag_harness import KAFKA_LOCAL, Broker, Exporter, exporter_config, KafkaTestCase, select, value, wait_until

TOPIC = "gl"


def cgc_state(bootstrap):
    """ConsumerGroupCommand --describe --all-groups --state, as
    {group: {"STATE", "#MEMBERS", "ASSIGNMENT-STRATEGY"}}."""
    res = subprocess.run([KAFKA_LOCAL, "cgc", bootstrap, "--describe", "--all-groups", "--state"],
                         capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise RuntimeError(f"ConsumerGroupCommand failed: {res.stderr}")
    out = {}
    header = None
    for line in res.stdout.splitlines():
        # Fixed-width columns: GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY
        # STATE #MEMBERS. An Empty group's strategy is "-" on Kafka 4 and
        # blank on 3.9, so the header's column positions are used.
        if line.startswith("GROUP "):
            header = {c: line.index(c) for c in ("ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")}
            continue
        if header is None or not line.strip():
            continue
        strategy = line[header["ASSIGNMENT-STRATEGY"]:header["STATE"]].strip()
        out[line.split()[0]] = {"ASSIGNMENT-STRATEGY": "" if strategy == "-" else strategy,
                                "STATE": line[header["STATE"]:header["#MEMBERS"]].strip(),
                                "#MEMBERS": int(line[header["#MEMBERS"]:].split()[0])}
    return out


def group_info(m, group):
    series = select(m, "kafka_consumergroup_group_info", cluster_name="main", group=group)
    return [dict(lbls) for lbls in series]


class GroupListingTest(KafkaTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        b = cls.broker = Broker()
        with open(os.path.join(b.state_dir, "version")) as f:
            cls.kafka4 = int(f.read().split(".")[0]) >= 4
        b.create_topic(TOPIC, 2)
        b.produce(TOPIC, 20)
        b.commit("gl-simple", [(TOPIC, 0, 5), (TOPIC, 1, 7)])
        left = b.start_member("gl-left", [TOPIC], commits=[(TOPIC, 0, 8), (TOPIC, 1, 9)])
        left.terminate()
        left.wait(timeout=30)
        cls.procs.append(b.start_member("gl-live", [TOPIC], commits=[(TOPIC, 0, 3), (TOPIC, 1, 4)]))
        cls.empty_groups = ["gl-simple", "gl-left"]
        if cls.kafka4:
            # A KIP-848 (group.protocol=consumer) group: the Java consumer
            # reads all 40 records, commits on close and leaves.
            res = subprocess.run([KAFKA_LOCAL, "tool", "org.apache.kafka.tools.consumer.ConsoleConsumer",
                                  "--bootstrap-server", b.bootstrap, "--topic", TOPIC, "--group", "gl-848",
                                  "--from-beginning", "--max-messages", "40",
                                  "--consumer-property", "group.protocol=consumer"],
                                 capture_output=True, text=True, timeout=180)
            if res.returncode != 0:
                raise RuntimeError(f"KIP-848 consumer failed: {res.stderr[-3000:]}")
            cls.empty_groups.append("gl-848")
        cls.exporter = Exporter(exporter_config(b.bootstrap, "main",
                                                exporter_extra="[exporter.timestamp_sampling]\nenabled = false",
                                                cluster_extra='group_whitelist = ["gl-.*"]'),
                                extra_args=("-l", "debug"))
        groups = cls.empty_groups + ["gl-live"]
        wait_until(lambda: all(group_info(cls.exporter.metrics(), g) for g in groups), 60, "all groups in /metrics")
        cls.reference = cgc_state(b.bootstrap)
        cls.offsets = b.consumer_groups()
        cls.metrics = cls.exporter.metrics()

    def test_empty_groups_skip_describe(self):
        lines = [l for l in self.exporter.log_text().splitlines() if "cluster main:" in l and "settled by ListGroups" in l]
        self.assertTrue(lines)
        n = len(self.empty_groups)
        self.assertIn(f"cluster main: {n + 1} groups, 1 described, {n} settled by ListGroups", lines[-1])

    def test_state_members_and_assignor_equal_the_reference(self):
        for g in self.empty_groups + ["gl-live"]:
            with self.subTest(group=g):
                ref = self.reference[g]
                info = group_info(self.metrics, g)
                self.assertEqual(len(info), 1, info)
                self.assertEqual(info[0]["state"], ref["STATE"])
                self.assertEqual(value(self.metrics, "kafka_consumergroup_group_members", cluster_name="main", group=g),
                                 ref["#MEMBERS"])
                if g != "gl-848":  # the server-side assignor of a KIP-848 group is not in DescribeGroups
                    self.assertEqual(info[0]["assignor"], ref["ASSIGNMENT-STRATEGY"])
        self.assertEqual(self.reference["gl-live"]["STATE"], "Stable")
        for g in self.empty_groups:
            self.assertEqual(self.reference[g]["STATE"], "Empty")
            self.assertEqual(group_info(self.metrics, g)[0]["assignor"], "")

    def test_empty_groups_have_lag_without_member_labels_and_a_status(self):
        for g in self.empty_groups:
            for p in range(2):
                with self.subTest(group=g, partition=p):
                    row = self.offsets[(g, TOPIC, p)]
                    series = select(self.metrics, "kafka_consumergroup_group_lag", cluster_name="main", group=g, partition=p)
                    self.assertEqual(list(series.values()), [int(row["LAG"])])
                    labels = dict(next(iter(series)))
                    self.assertEqual((labels["member_host"], labels["consumer_id"], labels["client_id"]), ("", "", ""))
            status = select(self.metrics, "kafka_consumergroup_group_status", cluster_name="main", group=g)
            self.assertEqual(len(status), 6, status)

    def test_z_a_member_that_joins_is_seen_at_the_next_cycle(self):
        # Runs last (name): it changes gl-simple.
        member = self.broker.start_member("gl-simple", [TOPIC])
        try:
            def stable():
                m = self.exporter.metrics()
                info = group_info(m, "gl-simple")
                return (len(info) == 1 and info[0]["state"] == "Stable" and info[0]["assignor"] == "range"
                        and value(m, "kafka_consumergroup_group_members", cluster_name="main", group="gl-simple") == 1)
            wait_until(stable, 30, "gl-simple Stable with one member")
            owners = {dict(l)["consumer_id"] for l in select(self.exporter.metrics(), "kafka_consumergroup_group_lag",
                                                               cluster_name="main", group="gl-simple")}
            self.assertEqual(len(owners), 1)
            self.assertNotEqual(owners, {""})
        finally:
            member.terminate()
            member.communicate(timeout=30)

        def empty_again():
            m = self.exporter.metrics()
            info = group_info(m, "gl-simple")
            return (len(info) == 1 and info[0]["state"] == "Empty"
                    and value(m, "kafka_consumergroup_group_members", cluster_name="main", group="gl-simple") == 0)
        wait_until(empty_again, 30, "gl-simple Empty again")


if __name__ == "__main__":
    unittest.main()
