"""Data loss from retention (DeleteRecords moves the log start past a
group's commit), compaction under a group's committed offset, and the last
stable offset under an open transaction, on a real broker."""

import os
import signal
import time
import subprocess
import unittest

from klag_harness import WORKLOAD, Broker, Exporter, exporter_config, select, value, wait_until


class RetentionAndTransactionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        b = cls.broker = Broker()
        b.create_topic("ret", 1)
        b.produce("ret", 100)
        b.commit("ret-behind", [("ret", 0, 20)])
        b.commit("ret-ahead", [("ret", 0, 70)])
        out = b.workload("delete-records", "--topic", "ret", "--partition", "0", "--before", "50")
        assert out.strip() == "low-watermark 50", out

        b.create_topic("txn", 1)
        b.produce("txn", 10)  # offsets 0-9, not transactional
        # Five more records in a transaction left open: LSO stays at 10.
        cls.txn = subprocess.Popen([WORKLOAD, "produce", "--bootstrap", b.bootstrap, "--topic", "txn", "--count", "5",
                                    "--transactional-id", "it-open-txn", "--hold"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = cls.txn.stdout.readline().strip()
        assert line == "produced 5", line
        b.commit("txn-group", [("txn", 0, 4)])
        b.commit("txn-inside", [("txn", 0, 12)])  # inside the open transaction

        # Compaction: keys k0..k9 twice, then one more record so the second
        # batch's segment rolls and the cleaner can drop the first batch.
        b.create_topic("cmp-plain", 1)
        b.workload("create-topic", "--topic", "cmp", "--partitions", "1", "--config", "cleanup.policy=compact",
                   "--config", "segment.ms=200", "--config", "min.cleanable.dirty.ratio=0.001",
                   "--config", "min.compaction.lag.ms=0")
        for topic in ("cmp", "cmp-plain"):
            b.workload("produce", "--topic", topic, "--count", "10", "--key-prefix", "k")
            time.sleep(0.4)
            b.workload("produce", "--topic", topic, "--count", "10", "--key-prefix", "k")
            time.sleep(0.4)
            b.workload("produce", "--topic", topic, "--count", "1", "--key-prefix", "z")
        log = os.path.join(b.state_dir, "broker.log")

        def cleaned():
            with open(log) as f:
                return "Offset map for log cmp-0 complete" in f.read()

        wait_until(cleaned, 60, "the log cleaner to run on cmp-0")
        time.sleep(2)  # let the cleaned segment be swapped in
        b.commit("cmp-group", [("cmp", 0, 3), ("cmp-plain", 0, 3)])

        cls.exporter = Exporter(exporter_config(b.bootstrap, "rt", exporter_extra='cycle_timeout = "5s"'))
        wait_until(lambda: select(cls.exporter.metrics(), "kafka_consumergroup_group_stable_lag", group="txn-group"),
                   60, "txn-group in /metrics")
        cls.metrics = cls.exporter.metrics()
        cls.reference = b.consumer_groups()

    @classmethod
    def tearDownClass(cls):
        cls.exporter.stop()
        cls.txn.send_signal(signal.SIGTERM)
        cls.txn.wait(timeout=15)
        cls.txn.stdout.close()
        cls.txn.stderr.close()
        cls.broker.purge()

    def test_data_loss_after_delete_records(self):
        m = self.metrics
        labels = dict(cluster_name="rt", group="ret-behind", topic="ret", partition=0)
        self.assertEqual(value(m, "kafka_partition_earliest_offset", cluster_name="rt", topic="ret", partition=0), 50)
        self.assertEqual(value(m, "kafka_consumergroup_group_lag", **labels), int(self.reference[("ret-behind", "ret", 0)]["LAG"]))
        self.assertEqual(value(m, "kafka_consumergroup_group_lag", **labels), 80)
        self.assertEqual(value(m, "kafka_consumergroup_group_messages_lost", **labels), 30)
        self.assertEqual(value(m, "kafka_consumergroup_group_retention_margin", **labels), -30)
        self.assertAlmostEqual(value(m, "kafka_consumergroup_group_lag_retention_ratio", **labels), 160.0)

        ahead = dict(cluster_name="rt", group="ret-ahead", topic="ret", partition=0)
        self.assertEqual(value(m, "kafka_consumergroup_group_messages_lost", **ahead), 0)
        self.assertEqual(value(m, "kafka_consumergroup_group_retention_margin", **ahead), 20)
        self.assertAlmostEqual(value(m, "kafka_consumergroup_group_lag_retention_ratio", **ahead), 60.0)
        self.assertEqual(value(m, "kafka_lag_exporter_data_loss_partitions_total", cluster_name="rt"), 1)

    def test_compaction_under_the_committed_offset_is_detected(self):
        m = self.metrics
        series = select(m, "kafka_consumergroup_group_lag_seconds", cluster_name="rt", group="cmp-group", topic="cmp")
        self.assertEqual(len(series), 1)
        labels = dict(next(iter(series)))
        self.assertEqual((labels["compaction_detected"], labels["data_loss_detected"]), ("true", "false"))
        # The same history on a non-compacted topic is not flagged.
        plain = dict(next(iter(select(m, "kafka_consumergroup_group_lag_seconds", cluster_name="rt", group="cmp-group",
                                      topic="cmp-plain"))))
        self.assertEqual(plain["compaction_detected"], "false")
        self.assertEqual(value(m, "kafka_lag_exporter_compaction_detected_total", cluster_name="rt"), 1)

    def test_open_transaction_holds_the_lso_below_the_high_watermark(self):
        m = self.metrics
        self.assertEqual(value(m, "kafka_partition_latest_offset", cluster_name="rt", topic="txn", partition=0), 15)
        self.assertEqual(value(m, "kafka_partition_last_stable_offset", cluster_name="rt", topic="txn", partition=0), 10)
        labels = dict(cluster_name="rt", group="txn-group", topic="txn", partition=0)
        self.assertEqual(value(m, "kafka_consumergroup_group_lag", **labels), int(self.reference[("txn-group", "txn", 0)]["LAG"]))
        self.assertEqual(value(m, "kafka_consumergroup_group_lag", **labels), 11)
        self.assertEqual(value(m, "kafka_consumergroup_group_stable_lag", **labels), 6)
        # Partitions without a transaction: LSO equals the high watermark.
        self.assertEqual(value(m, "kafka_partition_last_stable_offset", cluster_name="rt", topic="ret", partition=0), 100)
        # The open transaction does not slow the cycle down, and a group
        # committed inside it (past the LSO) still gets its time lag: the
        # reader is read_uncommitted and only reads offsets below the high
        # watermark, so it never waits for the transaction to end.
        self.assertLess(value(m, "kafka_lag_exporter_scrape_duration_seconds", cluster_name="rt"), 2)
        inside = dict(cluster_name="rt", group="txn-inside", topic="txn", partition=0)
        self.assertEqual(value(m, "kafka_consumergroup_group_stable_lag", **inside), 0)
        self.assertEqual(value(m, "kafka_consumergroup_group_lag", **inside), 3)
        self.assertEqual(len(select(m, "kafka_consumergroup_group_lag_seconds", **inside)), 1)
        self.assertEqual(value(m, "kafka_lag_exporter_timestamp_timeouts_total", cluster_name="rt"), 0)


if __name__ == "__main__":
    unittest.main()
