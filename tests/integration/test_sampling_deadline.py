"""Time-lag reads that the sampling deadline cuts short, on a real broker.

librdkafka 2.0.2 leaves a consumer handle whose read was cut short with work
queued for every partition still fetching; later reads on it wait behind
that work, run out of time again and leave more, so cycles grew without end
(25 s at 15,000 partitions). The exporter replaces the timestamp reader
after such a read instead. Here every read is cut short (6,000 partitions
and a 200 ms budget: a fresh reader needs more than that for them, and the
sampler's own work before the read, slower under the sanitizers, needs
less). Cycles must stay short and keep succeeding, the replaced readers must
be gone (threads, descriptors), and what was read must be right."""

import os
import re
import time
import unittest

from klag_harness import Broker, Exporter, exporter_config, select, wait_until

PARTITIONS = 6000
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
                   timeout=300)
        b.commit("sd-g", [("sd", p, 0) for p in range(PARTITIONS)])

    @classmethod
    def tearDownClass(cls):
        cls.broker.purge()

    def threads(self, e):
        return len(os.listdir(f"/proc/{e.proc.pid}/task"))

    def test_cut_short_reads_replace_the_reader_and_cycles_stay_short(self):
        e = Exporter(config(self.broker.bootstrap, "200ms"), extra_args=("-l", "debug"))
        try:
            wait_until(lambda: len(CYCLE.findall(e.log_text())) >= 3, 60, "three cycles")
            threads, fds = self.threads(e), e.fd_count()
            deadline = time.time() + 60
            while len(CYCLE.findall(e.log_text())) < 12 and time.time() < deadline:
                time.sleep(0.2)
            log = e.log_text()
            cycles = CYCLE.findall(log)
            durations = [float(c[2]) for c in cycles]
            self.assertGreaterEqual(len(cycles), 12, f"cycle durations so far (s): {durations}")
            self.assertEqual([c for c in cycles if c[1] != "ok"], [])
            # Without the replacement, every cycle took longer than the last
            # (at 2,000 partitions and 20 ms: 0.1, 0.5, 0.8, 1.4, 2.2, 3.3,
            # 4.7, 6.1 s). With it, a cycle is the cut-short read and the
            # replacement, the same every time (0.5 s here, about 1 s under
            # ASan after slower first cycles): the last four cycles must not
            # be slower than the first four.
            first, last = sorted(durations[:4]), sorted(durations[-4:])
            self.assertLessEqual((last[1] + last[2]) / 2, (first[1] + first[2]) / 2 * 1.5 + 0.5, durations)
            self.assertGreaterEqual(log.count(REPLACED), 8)
            # Each replaced reader took its threads and sockets with it.
            self.assertLessEqual(self.threads(e), threads + 6)
            self.assertLessEqual(e.fd_count(), fds + 6)

            # What the cut-short reads did answer is right: the age of the
            # record.
            age = time.time() - self.t_record / 1000
            for labels, v in select(e.metrics(), "kafka_consumergroup_group_lag_seconds", cluster_name="sd",
                                    group="sd-g").items():
                self.assertAlmostEqual(v, age, delta=3.0, msg=labels)
        finally:
            e.stop()


if __name__ == "__main__":
    unittest.main()
