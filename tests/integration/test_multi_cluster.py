"""Two clusters, then one broker stops: the other cluster keeps updating,
the stopped one reports up=0, and the process stays healthy."""

import time
import unittest

from klag_harness import Broker, Exporter, exporter_config, select, value, wait_until


class MultiClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = Broker()
        cls.b = Broker()
        for br in (cls.a, cls.b):
            br.create_topic("events", 2)
            br.produce("events", 20)
            br.commit("mc-group", [("events", 0, 5), ("events", 1, 20)])
        cls.exporter = Exporter(exporter_config(exporter_extra="""
cycle_timeout = "3s"
max_staleness = "4s"
""") + f"""
[[clusters]]
name = "alpha"
bootstrap_servers = "{cls.a.bootstrap}"

[[clusters]]
name = "beta"
bootstrap_servers = "{cls.b.bootstrap}"
""")

    @classmethod
    def tearDownClass(cls):
        cls.exporter.stop()
        cls.a.purge()
        cls.b.purge()

    def test_one_cluster_down_does_not_affect_the_other(self):
        e = self.exporter

        def both_up():
            m = e.metrics()
            return all(value(m, "kafka_lag_exporter_up", cluster_name=c) == 1 for c in ("alpha", "beta"))

        wait_until(both_up, 60, "both clusters up")
        m = e.metrics()
        for c in ("alpha", "beta"):
            self.assertEqual(value(m, "kafka_consumergroup_group_lag", cluster_name=c, group="mc-group", topic="events", partition=0), 15)

        self.a.stop()
        wait_until(lambda: value(e.metrics(), "kafka_lag_exporter_up", cluster_name="alpha") == 0, 30, "alpha down")
        before = value(e.metrics(), "kafka_lag_exporter_last_update_timestamp_seconds", cluster_name="beta")

        # beta keeps collecting: new data shows up while alpha is down.
        self.b.produce("events", 7)
        wait_until(lambda: value(e.metrics(), "kafka_consumergroup_group_lag", cluster_name="beta", group="mc-group",
                                 topic="events", partition=0) == 22, 30, "beta lag to follow new messages")
        m = e.metrics()
        self.assertEqual(value(m, "kafka_lag_exporter_up", cluster_name="beta"), 1)
        self.assertGreater(value(m, "kafka_lag_exporter_last_update_timestamp_seconds", cluster_name="beta"), before)
        self.assertEqual(value(m, "kafka_lag_exporter_up", cluster_name="alpha"), 0)
        self.assertEqual(m[("kafka_lag_exporter_up", ())], 1)
        self.assertEqual(e.get("/health")[0], 200)
        self.assertEqual(e.get("/ready")[0], 200)

        # After max_staleness the dead cluster's lag series go away rather
        # than showing frozen numbers forever.
        wait_until(lambda: not select(e.metrics(), "kafka_consumergroup_group_lag", cluster_name="alpha"), 30,
                   "alpha's stale lag series to expire")
        self.assertEqual(value(e.metrics(), "kafka_lag_exporter_up", cluster_name="alpha"), 0)
        # The failure is logged once per state change, not once per cycle.
        time.sleep(2)
        self.assertEqual(e.log_text().count("cluster alpha: down"), 1, e.log_text())


if __name__ == "__main__":
    unittest.main()
