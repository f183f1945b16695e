"""Time-lag reads that the sampling deadline cuts short, on a real broker.

librdkafka 2.0.2 leaves a consumer handle whose read was cut short with work
queued for every partition still fetching, and the next assignment on it
grows with the square of those partitions; cycles then ran out of time one
after another and grew to 25 s at 15,000 partitions. The exporter replaces
the timestamp reader after such a read instead. Here every read is cut
short (2,000 partitions, a 20 ms budget): cycles must stay short and keep
succeeding, the replaced readers must be gone (threads, descriptors), and
once the budget is normal again every time lag is right."""

import os
import re
import signal
import time
import unittest

from klag_harness import Broker, Exporter, exporter_config, select, wait_until

PARTITIONS = 2000
REPLACED = "timestamp read cut short by the deadline; replacing the timestamp reader"
CYCLE = re.compile(r"cluster sd: cycle (\d+) (ok|failed) in ([0-9.]+)s")


def config(bootstrap, fetch_timeout):
    return exporter_config(bootstrap, "sd", exporter_extra=f"""
[exporter.timestamp_sampling]
enabled = true
fetch_timeout = "{fetch_timeout}"
""")


class SamplingDeadlineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        b = cls.broker = Broker()
        cls.t_record = int(time.time() * 1000) - 300_000
        b.create_topic("sd", PARTITIONS)
        b.workload("produce", "--topic", "sd", "--count", "2", "--timestamp-ms", str(cls.t_record), "--value-bytes", "16",
                   timeout=120)
        b.commit("sd-g", [("sd", p, 0) for p in range(PARTITIONS)])

    @classmethod
    def tearDownClass(cls):
        cls.broker.purge()

    def threads(self, e):
        return len(os.listdir(f"/proc/{e.proc.pid}/task"))

    def test_cut_short_reads_replace_the_reader_and_cycles_stay_short(self):
        e = Exporter(config(self.broker.bootstrap, "20ms"), extra_args=("-l", "debug"))
        try:
            wait_until(lambda: len(CYCLE.findall(e.log_text())) >= 3, 60, "three cycles")
            threads, fds = self.threads(e), e.fd_count()
            deadline = time.time() + 40
            while len(CYCLE.findall(e.log_text())) < 12 and time.time() < deadline:
                time.sleep(0.2)
            log = e.log_text()
            cycles = CYCLE.findall(log)
            durations = [float(c[2]) for c in cycles]
            # Without the replacement, cycles grew 0.1, 0.5, 0.8, 1.4, 2.2,
            # 3.3, 4.7, 6.1 s here. With it, a cycle is the cut-short read
            # (20 ms plus the assignment) and the replacement: 0.1-0.3 s.
            self.assertGreaterEqual(len(cycles), 12, f"cycle durations so far (s): {durations}")
            self.assertEqual([c for c in cycles if c[1] != "ok"], [])
            self.assertLess(max(durations), 2.5, durations)
            self.assertGreaterEqual(log.count(REPLACED), 8)
            # Each replaced reader took its threads and sockets with it.
            self.assertLessEqual(self.threads(e), threads + 4)
            self.assertLessEqual(e.fd_count(), fds + 4)

            # A normal budget again (reload restarts the cluster's loop):
            # every partition's time lag is the age of its record.
            with open(e.config_path, "w") as f:
                f.write(config(self.broker.bootstrap, "10s").replace("@HTTP_PORT@", str(e.port)))
            e.proc.send_signal(signal.SIGHUP)

            found = {}

            def all_lags():
                found.clear()
                found.update(select(e.metrics(), "kafka_consumergroup_group_lag_seconds", cluster_name="sd", group="sd-g"))
                return len(found) == PARTITIONS

            wait_until(all_lags, 60, "time lag of every partition")
            age = time.time() - self.t_record / 1000
            for labels, v in found.items():
                self.assertAlmostEqual(v, age, delta=3.0, msg=labels)
        finally:
            e.stop()


if __name__ == "__main__":
    unittest.main()
