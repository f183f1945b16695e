"""Sharding through a Kafka consumer group: three replicas split the
consumer groups; the union of their series equals what one unsharded
instance exports, with nothing missing or doubled, before and after a
replica dies."""

import time
import unittest
from collections import Counter

from klag_harness import Broker, Exporter, exporter_config, select, value, wait_until

SESSION_S = 6
GROUPS = [f"sh-g{i:02d}" for i in range(24)]
# Counts over the groups a replica owns: summed across replicas.
SUMMED = {"kafka_lag_exporter_data_loss_partitions_total", "kafka_lag_exporter_compaction_detected_total"}
# Families whose values must match the unsharded instance exactly (the
# data is static: nothing is produced or committed during the test).
EXACT = {"kafka_consumergroup_group_lag", "kafka_consumergroup_group_offset", "kafka_consumergroup_group_sum_lag",
         "kafka_consumergroup_group_max_lag", "kafka_consumergroup_group_topic_sum_lag",
         "kafka_consumergroup_group_info", "kafka_consumergroup_group_members", "kafka_partition_latest_offset",
         "kafka_partition_earliest_offset", "kafka_consumergroup_group_messages_lost"}

# Derived from each replica's own history (docs/status.md): a group a
# replica just gained starts a new window, so presence and values differ
# from the unsharded instance for a while. Checked for doubles only.
HISTORY = {"kafka_partition_produce_rate", "kafka_consumergroup_group_consume_rate",
           "kafka_consumergroup_group_catchup_seconds", "kafka_consumergroup_partition_status",
           "kafka_consumergroup_group_status"}


def config(bootstrap, identity=None):
    sharding = "" if identity is None else f"""
[exporter.sharding]
enabled = true
identity = "{identity}"
session_timeout = "{SESSION_S}s"
"""
    return exporter_config(bootstrap, "main", exporter_extra=sharding, cluster_extra='group_whitelist = ["sh-g.*"]')


def cluster_series(metrics):
    """{(name, labels): value} of the series that belong to a cluster."""
    return {k: v for k, v in metrics.items() if "cluster_name" in dict(k[1])}


class ShardingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker()
        cls.broker.create_topic("sh-topic", 4)
        cls.broker.produce("sh-topic", 10)
        for i, g in enumerate(GROUPS):
            cls.broker.commit(g, [("sh-topic", p, (i + p) % 11) for p in range(4)])
        # Retention deleted the first 4 records of partition 2: the groups
        # committed below offset 4 there have lost data.
        cls.broker.workload("delete-records", "--topic", "sh-topic", "--partition", "2", "--before", "4")
        cls.single = Exporter(config(cls.broker.bootstrap))
        cls.replicas = [Exporter(config(cls.broker.bootstrap, f"shard-{n}")) for n in range(3)]

    @classmethod
    def tearDownClass(cls):
        for e in [cls.single, *cls.replicas]:
            e.stop()
        cls.broker.purge()

    def reference(self):
        wait_until(lambda: len(select(self.single.metrics(), "kafka_consumergroup_group_sum_lag")) == len(GROUPS),
                   60, "the unsharded instance to see every group")
        return cluster_series(self.single.metrics())

    def compare(self, replicas, reference):
        """None when the union of the replicas' series matches the
        reference, else a description of the first difference."""
        counts = Counter()
        union = {}
        summed = Counter()
        for e in replicas:
            m = e.metrics()
            owned = value(m, "kafka_lag_exporter_shards_owned")
            if owned == 0:
                return f"replica {e.base} owns no shard"
            for k, v in cluster_series(m).items():
                if k[0] in SUMMED:
                    summed[k] += v
                    continue
                counts[k] += 1
                union[k] = v
        doubled = [k for k, n in counts.items() if n > 1]
        if doubled:
            return f"doubled series: {doubled[:3]}"
        expected = {k for k in reference if k[0] not in SUMMED and k[0] not in HISTORY}
        missing = expected - set(union)
        extra = {k for k in union if k[0] not in HISTORY} - expected
        if missing or extra:
            return f"missing {sorted(missing)[:3]} extra {sorted(extra)[:3]}"
        for k in expected:
            if k[0] in EXACT and union[k] != reference[k]:
                return f"{k}: {union[k]} != {reference[k]}"
        expected_summed = {k for k in reference if k[0] in SUMMED}
        if set(summed) != expected_summed:
            return f"summed families {sorted(summed)} != {sorted(expected_summed)}"
        for k, v in summed.items():
            if reference.get(k) != v:
                return f"{k}: summed {v} != {reference.get(k)}"
        return None

    def test_union_equals_single_instance_before_and_after_a_loss(self):
        reference = self.reference()
        self.assertEqual(len(select(reference, "kafka_consumergroup_group_lag")), 4 * len(GROUPS))
        # Groups i with (i + 2) % 11 < 4: i in 0, 1, 9..12, 20..23 -> 10.
        self.assertEqual(value(reference, "kafka_lag_exporter_data_loss_partitions_total", cluster_name="main"), 10)

        last = [None]

        def converged(replicas):
            last[0] = self.compare(replicas, reference)
            return last[0] is None

        try:
            wait_until(lambda: converged(self.replicas), 60, "three replicas to split the groups")
        except AssertionError as e:
            raise AssertionError(f"{e}: {last[0]}") from None
        owned = [value(e.metrics(), "kafka_lag_exporter_shards_owned") for e in self.replicas]
        self.assertEqual(sum(owned), 64, owned)
        # Cluster-wide families come from exactly one replica: shard 0's owner.
        holders = [e for e in self.replicas if select(e.metrics(), "kafka_partition_latest_offset")]
        self.assertEqual(len(holders), 1)
        self.assertEqual(len(select(holders[0].metrics(), "kafka_lag_exporter_up", cluster_name="main")), 1)

        # Kill the replica that serves the cluster-wide families: its shards,
        # shard 0 among them, move to the survivors.
        victim = holders[0]
        survivors = [e for e in self.replicas if e is not victim]
        t0 = time.monotonic()
        victim.kill()
        try:
            wait_until(lambda: converged(survivors), 40, "the survivors to take over the dead replica's groups")
        except AssertionError as e:
            raise AssertionError(f"{e}: {last[0]}") from None
        took = time.monotonic() - t0
        print(f"\nshards rebalanced after SIGKILL in {took:.1f}s (session timeout {SESSION_S}s, poll 1s)")
        self.assertLess(took, SESSION_S + 10)
        owned = [value(e.metrics(), "kafka_lag_exporter_shards_owned") for e in survivors]
        self.assertEqual(sum(owned), 64, owned)


if __name__ == "__main__":
    unittest.main()
