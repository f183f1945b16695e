"""A real Prometheus server scrapes the exporter; PromQL through its HTTP
API returns the lag ConsumerGroupCommand reports."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse
import urllib.request

from klag_harness import Broker, Exporter, free_port, wait_until


class PrometheusEndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker()
        cls.broker.create_topic("e2e", 2)
        cls.broker.produce("e2e", 40)
        cls.broker.commit("e2e-group", [("e2e", 0, 12), ("e2e", 1, 40)])
        cls.exporter = Exporter(f"""
[exporter]
poll_interval = "1s"
http_port = @HTTP_PORT@
http_host = "127.0.0.1"

[[clusters]]
name = "e2e"
bootstrap_servers = "{cls.broker.bootstrap}"
""")
        cls.prom_dir = tempfile.mkdtemp(prefix="klag-it-prom-")
        cls.prom_port = free_port()
        cfg = os.path.join(cls.prom_dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: klag
    static_configs:
      - targets: ["127.0.0.1:{cls.exporter.port}"]
""")
        cls.prom_log = open(os.path.join(cls.prom_dir, "prometheus.log"), "w")
        cls.prom = subprocess.Popen(["prometheus", f"--config.file={cfg}",
                                     f"--storage.tsdb.path={os.path.join(cls.prom_dir, 'data')}",
                                     f"--web.listen-address=127.0.0.1:{cls.prom_port}"],
                                    stdout=cls.prom_log, stderr=subprocess.STDOUT)

    @classmethod
    def tearDownClass(cls):
        cls.prom.terminate()
        cls.prom.wait(timeout=15)
        cls.prom_log.close()
        cls.exporter.stop()
        cls.broker.purge()
        shutil.rmtree(cls.prom_dir, ignore_errors=True)

    def query(self, promql):
        url = f"http://127.0.0.1:{self.prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
        self.assertEqual(body["status"], "success")
        return {tuple(sorted(s["metric"].items())): float(s["value"][1]) for s in body["data"]["result"]}

    def test_promql_returns_the_reference_lag(self):
        ref = self.broker.consumer_groups()
        expected = {p: int(ref[("e2e-group", "e2e", p)]["LAG"]) for p in (0, 1)}
        self.assertEqual(expected, {0: 28, 1: 0})

        def scraped():
            res = self.query('kafka_consumergroup_group_lag{group="e2e-group"}')
            got = {int(dict(k)["partition"]): v for k, v in res.items()}
            return got == expected

        wait_until(scraped, 60, "Prometheus to return the lag")
        up = self.query('up{job="klag"}')
        self.assertEqual(list(up.values()), [1.0])
        total = self.query('sum by (group) (kafka_consumergroup_group_lag{cluster_name="e2e"})')
        self.assertEqual(total, {(("group", "e2e-group"),): 28.0})


if __name__ == "__main__":
    unittest.main()
