"""Broker faults on a real broker: a broker frozen (SIGSTOP) for longer than
the cycle deadline, and groups and topics deleted mid-run. (A broker killed
and restarted is test_broker_restart.)"""

import os
import signal
import time
import unittest

from klag_harness import KafkaTestCase, Broker, Exporter, exporter_config, select, value, wait_until

CYCLE_TIMEOUT_S = 2
FREEZE_S = 8


def threads_of(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


class FaultsTest(KafkaTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        b = cls.broker = Broker()
        b.create_topic("ft-keep", 2)
        b.create_topic("ft-doomed", 2)
        b.produce("ft-keep", 10)
        b.produce("ft-doomed", 10)
        b.commit("ft-stays", [("ft-keep", 0, 4), ("ft-keep", 1, 4)])
        b.commit("ft-deleted", [("ft-keep", 0, 1), ("ft-keep", 1, 1)])
        b.commit("ft-on-doomed", [("ft-doomed", 0, 3), ("ft-keep", 0, 2)])
        cls.exporter = Exporter(exporter_config(b.bootstrap, "ft", exporter_extra=f"""
cycle_timeout = "{CYCLE_TIMEOUT_S}s"
max_staleness = "60s"
"""))
        wait_until(lambda: len(select(cls.exporter.metrics(), "kafka_consumergroup_group_sum_lag", cluster_name="ft")) == 3,
                   60, "the three groups")


    def up(self, m=None):
        return value(m or self.exporter.metrics(), "kafka_lag_exporter_up", cluster_name="ft")

    def test_a_frozen_broker_times_cycles_out_and_blocks_nothing(self):
        e = self.exporter
        wait_until(lambda: self.up() == 1, 30, "cluster up")
        threads_before = threads_of(e.proc.pid)
        failures_before = value(e.metrics(), "kafka_lag_exporter_cycle_failures_total", cluster_name="ft")
        with open(os.path.join(self.broker.state_dir, "broker.pid")) as f:
            broker_pid = int(f.read().strip())
        os.kill(broker_pid, signal.SIGSTOP)
        try:
            start = time.monotonic()
            slowest = 0.0
            durations = []
            while time.monotonic() - start < FREEZE_S:
                t0 = time.monotonic()
                m = e.metrics()  # must keep answering from the snapshot
                slowest = max(slowest, time.monotonic() - t0)
                durations.append(value(m, "kafka_lag_exporter_scrape_duration_seconds", cluster_name="ft"))
                time.sleep(0.25)
            m = e.metrics()
            self.assertEqual(self.up(m), 0)
            # Last good data stays, flagged stale.
            self.assertEqual(value(m, "kafka_lag_exporter_stale", cluster_name="ft"), 1)
            failures = value(m, "kafka_lag_exporter_cycle_failures_total", cluster_name="ft") - failures_before
        finally:
            os.kill(broker_pid, signal.SIGCONT)
        print(f"frozen {FREEZE_S}s: {failures:.0f} failed cycles, slowest /metrics {slowest * 1000:.1f} ms, "
              f"longest cycle {max(durations):.2f}s", flush=True)
        # Cycles ended on their deadline (with a little slack), not when the
        # broker came back.
        self.assertLessEqual(max(durations), CYCLE_TIMEOUT_S + 1.0)
        self.assertGreaterEqual(failures, 2)
        self.assertLess(slowest, 0.5)
        # After SIGCONT: back up, cycles short again, no thread left behind.
        wait_until(lambda: self.up() == 1, 60, "cluster up after SIGCONT")
        wait_until(lambda: value(e.metrics(), "kafka_lag_exporter_scrape_duration_seconds", cluster_name="ft") < 1.0,
                   30, "short cycles again")
        wait_until(lambda: threads_of(e.proc.pid) <= threads_before, 30,
                   f"the thread count to return to {threads_before}")
        self.assertIsNone(e.proc.poll())

    def test_deleted_groups_and_topics_disappear_within_a_cycle(self):
        e = self.exporter
        b = self.broker

        def cycles():
            return value(e.metrics(), "kafka_lag_exporter_cycles_total", cluster_name="ft")

        wait_until(lambda: self.up() == 1, 60, "cluster up")
        self.assertTrue(select(e.metrics(), "kafka_consumergroup_group_lag", group="ft-deleted"))
        b.workload("delete-group", "--group", "ft-deleted")
        deleted_at = cycles()
        wait_until(lambda: not select(e.metrics(), "kafka_consumergroup_group_lag", group="ft-deleted"), 30,
                   "ft-deleted's series to go")
        m = e.metrics()
        # Gone by the end of the first cycle that started after the deletion.
        self.assertLessEqual(value(m, "kafka_lag_exporter_cycles_total", cluster_name="ft") - deleted_at, 2)
        for family in ("kafka_consumergroup_group_sum_lag", "kafka_consumergroup_group_info",
                       "kafka_consumergroup_group_offset"):
            self.assertFalse(select(m, family, group="ft-deleted"), family)
        self.assertTrue(select(m, "kafka_consumergroup_group_lag", group="ft-stays"))

        b.workload("delete-topic", "--topic", "ft-doomed")
        deleted_at = cycles()
        wait_until(lambda: not select(e.metrics(), "kafka_partition_latest_offset", topic="ft-doomed"), 30,
                   "ft-doomed's partition series to go")
        m = e.metrics()
        self.assertLessEqual(value(m, "kafka_lag_exporter_cycles_total", cluster_name="ft") - deleted_at, 2)
        self.assertFalse(select(m, "kafka_consumergroup_group_lag", topic="ft-doomed"))
        # The group's other topic stays, with its lag.
        self.assertEqual(value(m, "kafka_consumergroup_group_lag", group="ft-on-doomed", topic="ft-keep", partition=0), 8)


if __name__ == "__main__":
    unittest.main()
