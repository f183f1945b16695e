"""Our OTLP encoding, decoded with the official opentelemetry-proto Python
definitions (not ours): every metric, attribute and value equals the
Prometheus text of the same snapshot. Run with the interpreter of the venv
made by scripts/otlp-venv.sh."""

import os
import subprocess
import tempfile
import unittest

from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2

from klag_harness import parse_metrics

FIXTURE = os.environ["KLAG_OTLP_FIXTURE"]


class OfficialDecodingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="klag-otlp-")
        subprocess.run([FIXTURE, cls.dir], check=True)
        req = metrics_service_pb2.ExportMetricsServiceRequest()
        with open(os.path.join(cls.dir, "request.bin"), "rb") as f:
            req.ParseFromString(f.read())
        cls.req = req
        with open(os.path.join(cls.dir, "metrics.txt")) as f:
            cls.text = parse_metrics(f.read())

    def test_resource_attributes(self):
        self.assertEqual(len(self.req.resource_metrics), 1)
        attrs = {kv.key: kv.value.string_value for kv in self.req.resource_metrics[0].resource.attributes}
        self.assertEqual(attrs, {"service.name": "klag-exporter", "service.version": "9.9.9",
                                 "service.instance.id": "fixture-1", "team": "kafka"})

    def test_every_series_matches_the_prometheus_text(self):
        decoded = {}
        for m in self.req.resource_metrics[0].scope_metrics[0].metrics:
            kind = m.WhichOneof("data")
            self.assertIn(kind, ("gauge", "sum"), m.name)
            points = m.sum.data_points if kind == "sum" else m.gauge.data_points
            for p in points:
                attrs = tuple(sorted((kv.key, kv.value.string_value) for kv in p.attributes))
                v = p.as_int if p.WhichOneof("value") == "as_int" else p.as_double
                decoded[(m.name, attrs)] = float(v)
                self.assertEqual(p.time_unix_nano, 1_700_000_043_000_000_000)
        self.assertEqual(decoded, self.text)
        self.assertGreater(len(decoded), 30)

    def test_counters_are_cumulative_monotonic_sums(self):
        types = {}
        for m in self.req.resource_metrics[0].scope_metrics[0].metrics:
            types[m.name] = m.WhichOneof("data")
            if m.WhichOneof("data") == "sum":
                self.assertTrue(m.name.endswith("_total"), m.name)
                self.assertTrue(m.sum.is_monotonic)
                self.assertEqual(m.sum.aggregation_temporality, metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE)
                for p in m.sum.data_points:
                    self.assertEqual(p.start_time_unix_nano, 1_699_999_000_000_000_000)
        self.assertEqual(types["kafka_lag_exporter_cycles_total"], "sum")
        self.assertEqual(types["kafka_consumergroup_group_lag"], "gauge")
        # Gauges named _total (kept from the reference) stay gauges.
        self.assertEqual(types["kafka_lag_exporter_data_loss_partitions_total"], "gauge")


if __name__ == "__main__":
    unittest.main()
