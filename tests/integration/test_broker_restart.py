"""A broker killed (SIGKILL) and restarted on the same ports: no crash,
up drops to 0, then returns, and fresh data arrives within a cycle or two
of the broker being back."""

import os
import signal
import subprocess
import time
import unittest

from klag_harness import KAFKA_LOCAL, Broker, Exporter, exporter_config, value, wait_until


class BrokerRestartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker()
        cls.broker.create_topic("rs", 2)
        cls.broker.produce("rs", 10)
        cls.broker.commit("rs-group", [("rs", 0, 3), ("rs", 1, 10)])
        cls.exporter = Exporter(exporter_config(cls.broker.bootstrap, "rs", exporter_extra="""
cycle_timeout = "3s"
max_staleness = "60s"
"""))

    @classmethod
    def tearDownClass(cls):
        cls.exporter.stop()
        cls.broker.purge()

    def test_kill_and_restart(self):
        e = self.exporter
        lag = lambda m: value(m, "kafka_consumergroup_group_lag", cluster_name="rs", group="rs-group", partition=0)  # noqa: E731
        wait_until(lambda: value(e.metrics(), "kafka_lag_exporter_up", cluster_name="rs") == 1, 60, "cluster up")
        self.assertEqual(lag(e.metrics()), 7)

        with open(os.path.join(self.broker.state_dir, "broker.pid")) as f:
            os.kill(int(f.read().strip()), signal.SIGKILL)
        wait_until(lambda: value(e.metrics(), "kafka_lag_exporter_up", cluster_name="rs") == 0, 30, "up to drop to 0")
        # Last good data is still served, flagged stale, and the process is healthy.
        m = e.metrics()
        self.assertEqual(lag(m), 7)
        self.assertEqual(value(m, "kafka_lag_exporter_stale", cluster_name="rs"), 1)
        self.assertEqual(e.get("/health")[0], 200)

        out = subprocess.run([KAFKA_LOCAL, "restart", self.broker.state_dir], check=True, capture_output=True,
                             text=True).stdout.strip().splitlines()[-1]
        self.assertEqual(out, self.broker.bootstrap)
        back = time.monotonic()
        self.broker.produce("rs", 5)  # new data the exporter must pick up
        wait_until(lambda: lag(e.metrics()) == 12, 60, "fresh lag after the restart")
        m = e.metrics()
        self.assertEqual(value(m, "kafka_lag_exporter_up", cluster_name="rs"), 1)
        self.assertEqual(value(m, "kafka_lag_exporter_stale", cluster_name="rs"), 0)
        print(f"fresh data {time.monotonic() - back:.1f}s after the broker was ready again", flush=True)
        self.assertEqual(e.proc.poll(), None, "exporter still running")


if __name__ == "__main__":
    unittest.main()
