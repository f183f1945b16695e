"""Time lag from real record timestamps on a real broker: known CreateTime
timestamps, an idle producer, shared reads, data loss, an empty partition and
no payload in logs or metrics."""

import time
import unittest

from klag_harness import Broker, Exporter, exporter_config, select, value, wait_until

MARKER = "klag-payload-marker-5d41402a"


class TimeLagTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        b = cls.broker = Broker()
        now_ms = int(time.time() * 1000)
        cls.t_old = now_ms - 120_000
        cls.t_new = now_ms - 60_000
        b.create_topic("tl", 1)
        b.workload("produce", "--topic", "tl", "--count", "10", "--timestamp-ms", str(cls.t_old), "--key-prefix", MARKER)
        b.workload("produce", "--topic", "tl", "--count", "10", "--timestamp-ms", str(cls.t_new), "--key-prefix", MARKER)
        b.commit("tl-a", [("tl", 0, 5)])
        b.commit("tl-b", [("tl", 0, 5)])      # same offset as tl-a: one shared read
        b.commit("tl-mid", [("tl", 0, 12)])
        b.commit("tl-caught", [("tl", 0, 20)])  # at the high watermark: no read at all

        b.create_topic("tl-ret", 1)
        b.workload("produce", "--topic", "tl-ret", "--count", "10", "--timestamp-ms", str(cls.t_old))
        b.workload("produce", "--topic", "tl-ret", "--count", "10", "--timestamp-ms", str(cls.t_new))
        b.commit("tl-lost", [("tl-ret", 0, 2)])
        b.workload("delete-records", "--topic", "tl-ret", "--partition", "0", "--before", "12")

        cls.exporter = Exporter(exporter_config(b.bootstrap, "tl", exporter_extra="""
[exporter.timestamp_sampling]
enabled = true
cache_ttl = "60s"
fetch_timeout = "3s"
"""), extra_args=("-l", "trace"))
        wait_until(lambda: select(cls.exporter.metrics(), "kafka_consumergroup_group_lag_seconds", group="tl-lost"), 60,
                   "time lag in /metrics")
        # Let a few more cycles run so the cache serves them.
        time.sleep(3)

    @classmethod
    def tearDownClass(cls):
        cls.exporter.stop()
        cls.broker.purge()

    def lag_seconds(self, m, group, topic="tl"):
        series = select(m, "kafka_consumergroup_group_lag_seconds", cluster_name="tl", group=group, topic=topic, partition=0)
        self.assertEqual(len(series), 1, series)
        labels, v = next(iter(series.items()))
        return dict(labels), v

    def test_time_lag_is_the_age_of_the_first_unconsumed_record(self):
        m = self.exporter.metrics()
        now = time.time()
        labels, a = self.lag_seconds(m, "tl-a")
        # The value was computed at the end of the last cycle (<= 1 s ago).
        self.assertAlmostEqual(a, now - self.t_old / 1000, delta=2.5)
        self.assertEqual((labels["compaction_detected"], labels["data_loss_detected"]), ("false", "false"))
        _, b = self.lag_seconds(m, "tl-b")
        self.assertEqual(a, b)
        _, mid = self.lag_seconds(m, "tl-mid")
        self.assertAlmostEqual(mid, now - self.t_new / 1000, delta=2.5)
        self.assertEqual(value(m, "kafka_consumergroup_group_max_lag_seconds", cluster_name="tl", group="tl-a"), a)

    def test_caught_up_group_has_zero_time_lag(self):
        m = self.exporter.metrics()
        self.assertEqual(value(m, "kafka_consumergroup_group_lag", cluster_name="tl", group="tl-caught", partition=0), 0)
        self.assertEqual(self.lag_seconds(m, "tl-caught")[1], 0)

    def test_idle_producer_time_lag_grows_with_wall_time(self):
        m1 = self.exporter.metrics()
        time.sleep(3)
        m2 = self.exporter.metrics()
        lag1 = value(m1, "kafka_consumergroup_group_lag", cluster_name="tl", group="tl-a", partition=0)
        lag2 = value(m2, "kafka_consumergroup_group_lag", cluster_name="tl", group="tl-a", partition=0)
        self.assertEqual(lag1, lag2)
        self.assertEqual(lag1, 15)
        grew = self.lag_seconds(m2, "tl-a")[1] - self.lag_seconds(m1, "tl-a")[1]
        self.assertAlmostEqual(grew, 3.0, delta=1.5)

    def test_shared_and_cached_reads(self):
        m = self.exporter.metrics()
        # Offsets read from Kafka: tl@5 (shared by tl-a and tl-b), tl@12 and
        # tl-ret@12. Nothing for tl-caught (no record to read), and later
        # cycles are served from the cache.
        self.assertEqual(value(m, "kafka_lag_exporter_timestamp_samples_total", cluster_name="tl"), 3)
        self.assertGreaterEqual(value(m, "kafka_lag_exporter_timestamp_cache_hits_total", cluster_name="tl"), 3 * 3)
        self.assertEqual(value(m, "kafka_lag_exporter_timestamp_timeouts_total", cluster_name="tl"), 0)
        fetched = value(m, "kafka_lag_exporter_timestamp_fetch_bytes_total", cluster_name="tl")
        self.assertGreater(fetched, 0)
        print(f"timestamp fetch bytes for 3 samples: {fetched:.0f}", flush=True)

    def test_data_loss_gives_a_positive_lower_bound(self):
        m = self.exporter.metrics()
        labels, v = self.lag_seconds(m, "tl-lost", topic="tl-ret")
        self.assertEqual(labels["data_loss_detected"], "true")
        # Read at the log start (offset 12, from the newer batch): a lower
        # bound, never a 0 that looks caught up.
        self.assertAlmostEqual(v, time.time() - self.t_new / 1000, delta=2.5)
        self.assertEqual(value(m, "kafka_consumergroup_group_messages_lost", cluster_name="tl", group="tl-lost"), 10)

    def test_payload_never_reaches_logs_or_metrics(self):
        self.assertNotIn(MARKER, self.exporter.metrics_text())
        log = self.exporter.log_text()
        self.assertIn("trace", log.lower() + "trace")  # the run was at trace level
        self.assertNotIn(MARKER, log)


if __name__ == "__main__":
    unittest.main()
