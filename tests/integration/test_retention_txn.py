"""Data loss from retention (DeleteRecords moves the log start past a
group's commit) and the last stable offset under an open transaction, on a
real broker."""

import os
import signal
import subprocess
import unittest

from klag_harness import WORKLOAD, Broker, Exporter, select, value, wait_until


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

        cls.exporter = Exporter(f"""
[exporter]
poll_interval = "1s"
cycle_timeout = "5s"
http_port = @HTTP_PORT@
http_host = "127.0.0.1"

[[clusters]]
name = "rt"
bootstrap_servers = "{b.bootstrap}"
""")
        wait_until(lambda: select(cls.exporter.metrics(), "kafka_consumergroup_group_stable_lag", group="txn-group"),
                   60, "txn-group in /metrics")
        cls.metrics = cls.exporter.metrics()
        cls.reference = b.consumer_groups()

    @classmethod
    def tearDownClass(cls):
        cls.exporter.stop()
        cls.txn.send_signal(signal.SIGTERM)
        cls.txn.wait(timeout=15)
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
        # The open transaction does not slow the cycle down.
        self.assertLess(value(m, "kafka_lag_exporter_scrape_duration_seconds", cluster_name="rt"), 5)


if __name__ == "__main__":
    unittest.main()
