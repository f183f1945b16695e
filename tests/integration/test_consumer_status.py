"""Consumer status, rates and time to catch up on a real broker, from scripted
workloads that run side by side for a few cycles: a consumer that keeps up
(ok), one slower than its producer (warn), one draining a backlog (finite
catch-up time, checked against the time the drain then takes), a connected
member that does not consume (stall), a consumer that exited with lag left
(stop) and a group reset to an earlier offset (rewind)."""

import math
import signal
import subprocess
import time
import unittest

from klag_harness import KafkaTestCase, WORKLOAD, Broker, Exporter, exporter_config, select, value, wait_until

WINDOW = 6     # observations per status window, one per 1 s cycle
MIN_LAG = 50   # a lag below this counts as caught up
DRAIN_BACKLOG = 5000
DRAIN_PRODUCE = 20    # msg/s while draining
DRAIN_CONSUME = 170   # msg/s: gaining 150/s


def status_of(m, group, **labels):
    """The status whose one-hot series is 1, or None without series."""
    name = "kafka_consumergroup_partition_status" if labels else "kafka_consumergroup_group_status"
    series = select(m, name, cluster_name="st", group=group, **labels)
    if not series:
        return None
    on = [dict(lbls)["status"] for lbls, v in series.items() if v == 1]
    assert len(series) == 6 and len(on) == 1, series  # one-hot over six statuses
    return on[0]


class ConsumerStatusTest(KafkaTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        b = cls.broker = Broker()
        for topic in ("st-ok", "st-warn", "st-drain", "st-stall", "st-stop", "st-rewind"):
            b.create_topic(topic, 1)
        b.produce("st-stall", 200)
        b.produce("st-stop", 500)
        b.produce("st-rewind", 300)

        # stop: a consumer reads part of the backlog, then exits.
        stopper = cls.spawn("consume", "--group", "st-stop", "--topic", "st-stop", "--rate", "50",
                            "--commit-interval-ms", "200")
        time.sleep(6)
        stopper.send_signal(signal.SIGTERM)
        out, _ = stopper.communicate(timeout=30)
        consumed = int(out.split()[-1])  # "consumed N"
        if not 0 < consumed < 500 - MIN_LAG:
            raise RuntimeError(f"st-stop consumed {consumed} of 500; the scenario needs some lag left")
        # rewind: committed near the end first; moved back once its status is known.
        b.commit("st-rewind", [("st-rewind", 0, 250)])
        # stall: a member that holds the partition and never consumes.
        cls.procs.append(b.start_member("st-stall", ["st-stall"], commits=[("st-stall", 0, 0)]))

        cls.exporter = Exporter(exporter_config(b.bootstrap, "st", exporter_extra=f"""
[exporter.consumer_status]
window = {WINDOW}
min_lag = {MIN_LAG}
"""))
        # ok: keeps up with its producer; warn: a quarter of its producer's rate.
        for topic, produce in (("st-ok", 20), ("st-warn", 40)):
            cls.spawn("stream", "--topic", topic, "--rate", str(produce), expect="streaming")
        cls.spawn("consume", "--group", "st-ok", "--topic", "st-ok", "--commit-interval-ms", "200")
        cls.spawn("consume", "--group", "st-warn", "--topic", "st-warn", "--rate", "10", "--commit-interval-ms", "200")

    @classmethod
    def spawn(cls, *args, expect=None):
        proc = subprocess.Popen([WORKLOAD, args[0], "--bootstrap", cls.broker.bootstrap, *args[1:]],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if expect is not None:
            line = proc.stdout.readline().strip()
            if line != expect:
                proc.kill()
                raise RuntimeError(f"klag-workload {args[0]}: {line!r} {proc.stderr.read()}")
        cls.procs.append(proc)
        return proc

    def wait_for_status(self, group, timeout=60):
        found = {}

        def known():
            found["m"] = m = self.exporter.metrics()
            found["s"] = status_of(m, group)
            return found["s"] not in (None, "unknown")
        wait_until(known, timeout, f"a status for {group}")
        return found["s"], found["m"]

    def test_a_consumer_that_keeps_up_is_ok(self):
        status, m = self.wait_for_status("st-ok")
        self.assertEqual(status, "ok")
        self.assertEqual(status_of(m, "st-ok", topic="st-ok", partition=0), "ok")
        # It stays ok for a whole window.
        for _ in range(WINDOW):
            time.sleep(1)
            self.assertEqual(status_of(self.exporter.metrics(), "st-ok"), "ok")
        produce = value(m, "kafka_partition_produce_rate", cluster_name="st", topic="st-ok", partition=0)
        consume = value(m, "kafka_consumergroup_group_consume_rate", cluster_name="st", group="st-ok", topic="st-ok",
                        partition=0)
        self.assertAlmostEqual(produce, 20, delta=5)
        self.assertAlmostEqual(consume, 20, delta=5)

    def test_a_consumer_slower_than_its_producer_is_warn_and_never_catches_up(self):
        # Ok while the window still holds the first seconds, when lag was
        # below MIN_LAG; warn once lag grew across a whole window, and it
        # stays so.
        wait_until(lambda: status_of(self.exporter.metrics(), "st-warn") == "warn", 60, "st-warn to be warn")
        for _ in range(WINDOW):
            time.sleep(1)
            m = self.exporter.metrics()
            self.assertEqual(status_of(m, "st-warn"), "warn")
        catchup = value(m, "kafka_consumergroup_group_catchup_seconds", cluster_name="st", group="st-warn",
                        topic="st-warn", partition=0)
        self.assertTrue(math.isinf(catchup) and catchup > 0, catchup)
        self.assertAlmostEqual(value(m, "kafka_partition_produce_rate", cluster_name="st", topic="st-warn", partition=0),
                               40, delta=8)
        self.assertAlmostEqual(value(m, "kafka_consumergroup_group_consume_rate", cluster_name="st", group="st-warn",
                                     topic="st-warn", partition=0), 10, delta=3)

    def test_a_draining_consumer_catches_up_when_predicted(self):
        # Started here, not in setUpClass, so the tests that run before this
        # one cannot eat the backlog's drain time.
        self.broker.produce("st-drain", DRAIN_BACKLOG)
        self.spawn("stream", "--topic", "st-drain", "--rate", str(DRAIN_PRODUCE), expect="streaming")
        self.spawn("consume", "--group", "st-drain", "--topic", "st-drain", "--rate", str(DRAIN_CONSUME),
                   "--commit-interval-ms", "200")
        # The prediction of a full window (steady rates), read with the time
        # of the cycle that made it.
        def lag_and_catchup():
            m = self.exporter.metrics()
            if status_of(m, "st-drain") in (None, "unknown"):
                return None
            return (value(m, "kafka_consumergroup_group_lag", cluster_name="st", group="st-drain", partition=0),
                    value(m, "kafka_consumergroup_group_catchup_seconds", cluster_name="st", group="st-drain",
                          topic="st-drain", partition=0),
                    value(m, "kafka_lag_exporter_last_update_timestamp_seconds", cluster_name="st"))
        found = []

        def full_window():
            v = lag_and_catchup()
            if v is not None:
                found.append(v)
            return v is not None
        wait_until(full_window, 60, "a full window for st-drain")
        lag, predicted, at = found[-1]
        self.assertGreater(lag, 1500, "the backlog drained before the window filled; the scenario is too short")
        self.assertFalse(math.isinf(predicted))
        self.assertGreater(predicted, 0)

        # Drained: lag below MIN_LAG, as the exporter sees it.
        done = {}

        def drained():
            m = self.exporter.metrics()
            if value(m, "kafka_consumergroup_group_lag", cluster_name="st", group="st-drain", partition=0) < MIN_LAG:
                done["at"] = value(m, "kafka_lag_exporter_last_update_timestamp_seconds", cluster_name="st")
                return True
            return False
        wait_until(drained, predicted * 2 + 30, "st-drain to drain")
        actual = done["at"] - at
        print(f"st-drain: lag {lag:.0f}, predicted {predicted:.1f} s, drained after {actual:.1f} s")
        self.assertLess(abs(predicted - actual), 0.25 * actual, (predicted, actual))

    def test_a_connected_member_that_does_not_consume_is_stall(self):
        status, m = self.wait_for_status("st-stall")
        self.assertEqual(status, "stall")
        self.assertEqual(value(m, "kafka_consumergroup_group_members", cluster_name="st", group="st-stall"), 1)
        self.assertEqual(value(m, "kafka_consumergroup_group_consume_rate", cluster_name="st", group="st-stall",
                               topic="st-stall", partition=0), 0)

    def test_a_group_whose_consumer_exited_with_lag_is_stop(self):
        status, m = self.wait_for_status("st-stop")
        self.assertEqual(status, "stop")
        self.assertEqual(value(m, "kafka_consumergroup_group_members", cluster_name="st", group="st-stop"), 0)
        self.assertGreaterEqual(value(m, "kafka_consumergroup_group_lag", cluster_name="st", group="st-stop", partition=0),
                                MIN_LAG)

    def test_a_group_reset_to_an_earlier_offset_is_rewind(self):
        status, _ = self.wait_for_status("st-rewind")
        self.assertEqual(status, "stop")  # lag 50, no members, not moving
        self.broker.commit("st-rewind", [("st-rewind", 0, 100)])
        wait_until(lambda: status_of(self.exporter.metrics(), "st-rewind") == "rewind", 15, "st-rewind to be rewind")
        m = self.exporter.metrics()
        self.assertEqual(status_of(m, "st-rewind", topic="st-rewind", partition=0), "rewind")
        self.assertEqual(value(m, "kafka_consumergroup_group_offset", cluster_name="st", group="st-rewind", partition=0), 100)
        # The backward step leaves the window after WINDOW observations.
        wait_until(lambda: status_of(self.exporter.metrics(), "st-rewind") == "stop", WINDOW + 15,
                   "st-rewind to leave rewind")


if __name__ == "__main__":
    unittest.main()
