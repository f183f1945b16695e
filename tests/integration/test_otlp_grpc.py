"""OTLP over gRPC against a real grpcio receiver that decodes with the
official opentelemetry-proto definitions: what arrives equals a /metrics
scrape of the same snapshot, UNAVAILABLE is retried until the receiver
takes the data, headers arrive as metadata, and a dead receiver never
blocks collection. Run with the venv interpreter from scripts/otlp-venv.sh."""

import os
import tempfile
import unittest

from klag_harness import Broker, Exporter, free_port, parse_metrics, select, value, wait_until
from otlp_receiver import GrpcReceiver, flatten, make_test_ca

OTLP_COUNTER = "kafka_lag_exporter_otlp_exports_total"


class OtlpGrpcTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker()
        cls.broker.create_topic("og", 2)
        cls.broker.produce("og", 20)
        cls.broker.commit("og-group", [("og", 0, 8), ("og", 1, 20)])
        cls.receiver = GrpcReceiver()
        cls.receiver.unavailable = 2
        os.environ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=it-grpc"
        # gRPC is the default protocol; one snapshot for the whole test.
        cls.exporter = Exporter(f"""
[exporter]
poll_interval = "120s"
http_port = @HTTP_PORT@
http_host = "127.0.0.1"

[exporter.otel]
enabled = true
endpoint = "http://127.0.0.1:{cls.receiver.port}"
export_interval = "1s"
timeout = "2s"
[exporter.otel.headers]
X-Tenant = "blue"

[[clusters]]
name = "og"
bootstrap_servers = "{cls.broker.bootstrap}"
""")
        wait_until(lambda: select(cls.exporter.metrics(), "kafka_consumergroup_group_lag", group="og-group"), 60,
                   "first cycle")
        n = cls.receiver.count()
        wait_until(lambda: cls.receiver.count() >= n + 1, 30, "an export after the first cycle")

    @classmethod
    def tearDownClass(cls):
        cls.exporter.stop()
        cls.receiver.stop()
        cls.broker.purge()

    def test_export_equals_the_scrape_of_the_same_snapshot(self):
        series, kinds, resource = flatten(self.receiver.last())
        scraped = parse_metrics(self.exporter.metrics_text())
        drop = lambda d: {k: v for k, v in d.items() if k[0] != OTLP_COUNTER}  # noqa: E731
        self.assertEqual(drop(series), drop(scraped))
        self.assertEqual(value(scraped, "kafka_consumergroup_group_lag", group="og-group", partition=0), 12)
        self.assertEqual(kinds["kafka_lag_exporter_cycles_total"], "sum")
        self.assertEqual(resource["service.name"], "klag-exporter")
        self.assertEqual(resource["deployment.environment"], "it-grpc")

    def test_unavailable_is_retried_and_headers_are_metadata(self):
        self.assertEqual(self.receiver.answered_unavailable, 2)
        self.assertEqual(self.receiver.metadata[-1].get("x-tenant"), "blue")
        self.assertGreaterEqual(value(self.exporter.metrics(), OTLP_COUNTER, result="success"), 1)

    def test_tls_with_a_ca_made_in_the_test(self):
        ca, cert, key = make_test_ca(tempfile.mkdtemp(prefix="klag-otlp-grpc-tls-"))
        receiver = GrpcReceiver(tls=(cert, key))
        config = lambda ca_line: f"""
[exporter]
poll_interval = "1s"
http_port = @HTTP_PORT@
http_host = "127.0.0.1"
[exporter.otel]
enabled = true
endpoint = "https://127.0.0.1:{receiver.port}"
export_interval = "1s"
timeout = "2s"
{ca_line}
[[clusters]]
name = "og"
bootstrap_servers = "{self.broker.bootstrap}"
"""  # noqa: E731
        try:
            untrusted = Exporter(config(""))
            try:
                wait_until(lambda: value(untrusted.metrics(), OTLP_COUNTER, result="dropped") >= 1, 30, "a dropped batch")
                self.assertEqual(receiver.count(), 0)
            finally:
                untrusted.stop()
            trusted = Exporter(config(f'ca_file = "{ca}"'))
            try:
                wait_until(lambda: receiver.count() >= 1, 30, "an export over TLS")
                self.assertGreaterEqual(value(trusted.metrics(), OTLP_COUNTER, result="success"), 1)
            finally:
                trusted.stop()
        finally:
            receiver.stop()

    def test_dead_receiver_never_blocks_collection(self):
        dead = free_port()
        e = Exporter(f"""
[exporter]
poll_interval = "1s"
http_port = @HTTP_PORT@
http_host = "127.0.0.1"
[exporter.otel]
enabled = true
endpoint = "http://127.0.0.1:{dead}"
export_interval = "1s"
timeout = "1s"
[[clusters]]
name = "og"
bootstrap_servers = "{self.broker.bootstrap}"
""")
        try:
            wait_until(lambda: value(e.metrics(), "kafka_lag_exporter_cycles_total", cluster_name="og") >= 4, 60,
                       "cycles to go on")
            m = e.metrics()
            self.assertEqual(value(m, "kafka_lag_exporter_up", cluster_name="og"), 1)
            self.assertEqual(value(m, OTLP_COUNTER, result="success"), 0)
            self.assertGreaterEqual(value(m, OTLP_COUNTER, result="dropped"), 1)
        finally:
            e.stop()


if __name__ == "__main__":
    unittest.main()
