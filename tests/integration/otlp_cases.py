"""The OTLP export tests, run once per transport (test_otlp_grpc.py,
test_otlp_http.py) against a real broker and a receiver that decodes with
the official opentelemetry-proto definitions. Run with the venv interpreter
from scripts/otlp-venv.sh."""

import os
import tempfile
import time

from klag_harness import Broker, Exporter, exporter_config, free_port, parse_metrics, select, value, wait_until
from otlp_receiver import flatten
from tls_ca import make_test_ca

OTLP_COUNTER = "kafka_lag_exporter_otlp_exports_total"


class OtlpExportCases:
    """Mixed into a unittest.TestCase with PROTOCOL and RECEIVER set."""

    PROTOCOL = None  # "grpc" or "http/protobuf"
    RECEIVER = None  # a receiver class from otlp_receiver

    @classmethod
    def config(cls, endpoint, poll_interval="1s", timeout="1s", extra=""):
        return exporter_config(cls.broker.bootstrap, "ox", poll_interval=poll_interval, exporter_extra=f"""
[exporter.otel]
enabled = true
protocol = "{cls.PROTOCOL}"
endpoint = "{endpoint}"
export_interval = "1s"
timeout = "{timeout}"
{extra}
""")

    @classmethod
    def setUpClass(cls):
        cls.broker = Broker()
        cls.broker.create_topic("ox", 2)
        cls.broker.produce("ox", 20)
        cls.broker.commit("ox-group", [("ox", 0, 5), ("ox", 1, 20)])
        cls.receiver = cls.RECEIVER()
        cls.receiver.unavailable = 2  # the first two exports are refused
        os.environ["KLAG_TEST_OTLP_TOKEN"] = "t0ken"
        os.environ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=it"
        # A long poll interval keeps one snapshot for the whole test, so the
        # export and the scrape can be compared value by value.
        cls.exporter = Exporter(cls.config(
            f"http://127.0.0.1:{cls.receiver.port}", poll_interval="120s", timeout="2s",
            extra='[exporter.otel.headers]\nX-Test-Token = "${KLAG_TEST_OTLP_TOKEN}"'))
        wait_until(lambda: select(cls.exporter.metrics(), "kafka_consumergroup_group_lag", group="ox-group"), 60,
                   "first cycle")
        n = cls.receiver.count()
        wait_until(lambda: cls.receiver.count() >= n + 1, 30, "an export after the first cycle")

    @classmethod
    def tearDownClass(cls):
        cls.exporter.stop()
        cls.receiver.stop()
        cls.broker.purge()

    def test_export_equals_the_scrape_of_the_same_snapshot(self):
        series, kinds, _ = flatten(self.receiver.last())
        scraped = parse_metrics(self.exporter.metrics_text())
        # The OTLP outcome counter moves with every export; all else is one snapshot.
        drop = lambda d: {k: v for k, v in d.items() if k[0] != OTLP_COUNTER}  # noqa: E731
        self.assertEqual(drop(series), drop(scraped))
        self.assertEqual(value(scraped, "kafka_consumergroup_group_lag", group="ox-group", partition=0), 15)
        self.assertEqual(kinds["kafka_lag_exporter_cycles_total"], "sum")
        self.assertEqual(kinds["kafka_consumergroup_group_lag"], "gauge")

    def test_resource_and_headers(self):
        _, _, resource = flatten(self.receiver.last())
        self.assertEqual(resource["service.name"], "klag-exporter")
        self.assertRegex(resource["service.version"], r"^\d+\.\d+\.\d+$")
        self.assertTrue(resource["service.instance.id"])
        self.assertEqual(resource["deployment.environment"], "it")
        self.assertEqual(self.receiver.headers[-1].get("x-test-token"), "t0ken")

    def test_refused_exports_are_retried_until_the_receiver_takes_them(self):
        self.assertEqual(self.receiver.refused, 2)
        self.assertGreaterEqual(self.receiver.count(), 1)
        self.assertGreaterEqual(value(self.exporter.metrics(), OTLP_COUNTER, result="success"), 1)

    def test_tls_with_a_ca_made_in_the_test(self):
        ca, cert, key = make_test_ca(tempfile.mkdtemp(prefix="klag-otlp-tls-"))
        receiver = self.RECEIVER(tls=(cert, key))
        endpoint = f"https://127.0.0.1:{receiver.port}"
        try:
            # Without our CA the receiver's certificate is not trusted.
            untrusted = Exporter(self.config(endpoint, timeout="2s"))
            try:
                wait_until(lambda: value(untrusted.metrics(), OTLP_COUNTER, result="dropped") >= 1, 30, "a dropped batch")
                self.assertEqual(receiver.count(), 0)
            finally:
                untrusted.stop()
            trusted = Exporter(self.config(endpoint, timeout="2s", extra=f'ca_file = "{ca}"'))
            try:
                wait_until(lambda: receiver.count() >= 1, 30, "an export over TLS")
                self.assertGreaterEqual(value(trusted.metrics(), OTLP_COUNTER, result="success"), 1)
            finally:
                trusted.stop()
        finally:
            receiver.stop()

    def test_dead_receiver_never_blocks_collection(self):
        e = Exporter(self.config(f"http://127.0.0.1:{free_port()}"))  # nothing listens there
        try:
            wait_until(lambda: value(e.metrics(), "kafka_lag_exporter_cycles_total", cluster_name="ox") >= 4, 60,
                       "cycles to go on")
            m = e.metrics()
            self.assertEqual(value(m, "kafka_lag_exporter_up", cluster_name="ox"), 1)
            self.assertEqual(value(m, OTLP_COUNTER, result="success"), 0)
            # Refused connections are retryable: each batch is dropped when
            # the next one is due.
            self.assertGreaterEqual(value(m, OTLP_COUNTER, result="dropped"), 1)
            start = time.monotonic()
            self.assertEqual(e.get("/metrics")[0], 200)
            self.assertLess(time.monotonic() - start, 1.0)
        finally:
            e.stop()
