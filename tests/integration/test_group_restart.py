"""Groups must not vanish from the metrics when the broker comes back
from a restart and its group coordinators are still loading."""

import os
import signal
import subprocess
import threading
import time
import unittest

from klag_harness import KAFKA_LOCAL, Broker, Exporter, exporter_config, select, value, wait_until

GROUPS = 300
NOT_LISTED = "groups of the last cycle were not listed"


class GroupsSurviveARestartTest(unittest.TestCase):
    """Kafka 4's ListGroups skips group coordinators that are not loaded yet,
    without an error: right after a restart it listed 0 of 2,000 groups while
    metadata and watermarks already answered, and such a cycle published no
    groups at all. A group missing from the listing now stays while its
    coordinator still has (or cannot yet tell about) its offsets. Every scrape
    from the kill until well after the restarts must show every group, with
    its lag (carried forward, flagged stale, while the broker is away), and
    the exporter must survive each restart (librdkafka crashed in two of
    about 25 restarts before failed cycles replaced the admin client).

    Since that replacement, a cycle lands in the window after a restart
    rarely (0 of 30 restarts here; before it, about one in three), so the
    test restarts up to three times; test_acl.py covers a group left out
    of the listing deterministically."""

    @classmethod
    def setUpClass(cls):
        b = cls.broker = Broker()
        b.workload("scale", "--prefix", "gr", "--topics", "6", "--partitions", "2", "--groups", str(GROUPS),
                   "--topics-per-group", "1", "--records", "4", "--commit-offset", "1", timeout=300)

    @classmethod
    def tearDownClass(cls):
        cls.broker.purge()

    def test_no_scrape_loses_groups_across_a_restart(self):
        # Short cycles, to land in the window after the restart often.
        e = Exporter(exporter_config(self.broker.bootstrap, "gr", poll_interval="200ms", exporter_extra="""
cycle_timeout = "2s"
max_staleness = "120s"
"""), extra_args=("-l", "debug"))
        counts, lags, stop = [], set(), threading.Event()

        def scrape():
            while not stop.is_set():
                try:
                    m = select(e.metrics(), "kafka_consumergroup_group_sum_lag", cluster_name="gr")
                except Exception:  # noqa: BLE001 - a scrape refused while busy is no data point
                    continue
                counts.append(len(m))
                lags.update(m.values())
                time.sleep(0.05)

        try:
            wait_until(lambda: len(select(e.metrics(), "kafka_consumergroup_group_sum_lag", cluster_name="gr")) == GROUPS,
                       60, f"the {GROUPS} groups")
            scraper = threading.Thread(target=scrape, daemon=True)
            scraper.start()
            # Restart until a cycle landed in that window (at most three
            # times).
            for restarts in range(1, 4):
                with open(os.path.join(self.broker.state_dir, "broker.pid")) as f:
                    os.kill(int(f.read().strip()), signal.SIGKILL)
                subprocess.run([KAFKA_LOCAL, "restart", self.broker.state_dir], check=True, capture_output=True)
                wait_until(lambda: value(e.metrics(), "kafka_lag_exporter_stale", cluster_name="gr") == 0, 60,
                           "fresh data after the restart")
                time.sleep(3)
                if NOT_LISTED in e.log_text():
                    break
            stop.set()
            scraper.join(5)
            log = e.log_text()
            print(f"{restarts} restarts, {len(counts)} scrapes, group counts seen {sorted(set(counts))}; cycles that "
                  f"kept unlisted groups: {log.count(NOT_LISTED)}", flush=True)
            self.assertGreater(len(counts), 40)
            self.assertEqual(min(counts), GROUPS)
            self.assertEqual(lags, {6})
            self.assertIsNone(e.proc.poll())
        finally:
            stop.set()
            e.stop()


if __name__ == "__main__":
    unittest.main()
