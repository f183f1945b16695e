"""SIGTERM stops the exporter within 2 s even while a collection cycle is
stuck on a frozen broker, and the exit is clean."""

import os
import signal
import time
import unittest

from klag_harness import Broker, Exporter, exporter_config, value, wait_until


class ShutdownTest(unittest.TestCase):
    def setUp(self):
        self.broker = Broker()
        self.broker.create_topic("sd", 1)
        self.broker.produce("sd", 5)
        self.broker.commit("sd-group", [("sd", 0, 1)])
        with open(os.path.join(self.broker.state_dir, "broker.pid")) as f:
            self.broker_pid = int(f.read().strip())
        self.exporter = Exporter(exporter_config(self.broker.bootstrap, "sd", exporter_extra='cycle_timeout = "60s"'))

    def tearDown(self):
        os.kill(self.broker_pid, signal.SIGCONT)
        self.broker.purge()

    def test_sigterm_with_a_cycle_in_flight(self):
        e = self.exporter
        wait_until(lambda: value(e.metrics(), "kafka_lag_exporter_up", cluster_name="sd") == 1, 60, "cluster up")
        os.kill(self.broker_pid, signal.SIGSTOP)
        # Let the next cycle start and block on the frozen broker.
        cycles = value(e.metrics(), "kafka_lag_exporter_cycles_total", cluster_name="sd")
        time.sleep(2.5)
        self.assertLessEqual(value(e.metrics(), "kafka_lag_exporter_cycles_total", cluster_name="sd"), cycles + 1,
                             "a cycle should be stuck on the frozen broker")
        # /metrics keeps answering from the snapshot meanwhile.
        self.assertEqual(e.get("/metrics")[0], 200)
        start = time.monotonic()
        e.proc.send_signal(signal.SIGTERM)
        e.proc.wait(timeout=10)
        elapsed = time.monotonic() - start
        print(f"shutdown took {elapsed:.3f}s", flush=True)
        self.assertLess(elapsed, 2.0)
        self.assertEqual(e.proc.returncode, 0)
        e.stop()  # checks the log for sanitizer reports


if __name__ == "__main__":
    unittest.main()
