"""A real Prometheus server scrapes the exporter; PromQL through its HTTP
API returns the lag ConsumerGroupCommand reports, every query of the Grafana
dashboard returns data, and the alert rules load and evaluate."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest
import urllib.parse
import urllib.request

from klag_harness import ROOT, WORKLOAD, Broker, Exporter, exporter_config, free_port, wait_until

DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "klag-exporter.json")
ALERTS = os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")


def dashboard_queries(dashboard):
    """Every PromQL expression of the dashboard as (where, promql): panel
    targets, and the selector inside each template variable's
    label_values(selector, label) (with the label it must carry). Template
    variables become the regex their "All" option sends."""
    def subst(expr):
        return expr.replace("$cluster", ".+").replace("$group", ".+")
    out = []
    for panel in dashboard["panels"]:
        for t in panel.get("targets", []):
            out.append((f"panel {panel['title']!r} {t['refId']}", subst(t["expr"]), None))
    for var in dashboard["templating"]["list"]:
        if var["type"] != "query":
            continue
        m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", var["query"]["query"])
        assert m, var["query"]
        out.append((f"variable {var['name']}", subst(m.group(1)), m.group(2)))
    return out


class PrometheusEndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker()
        cls.broker.create_topic("e2e", 2)
        cls.broker.produce("e2e", 40)
        cls.broker.commit("e2e-group", [("e2e", 0, 12), ("e2e", 1, 40)])
        # Data loss: e2e-lost committed below the log start.
        cls.broker.create_topic("e2e-ret", 1)
        cls.broker.produce("e2e-ret", 20)
        cls.broker.commit("e2e-lost", [("e2e-ret", 0, 2)])
        cls.broker.workload("delete-records", "--topic", "e2e-ret", "--partition", "0", "--before", "10")
        # A live consumer that keeps up with a steady producer: rates and a
        # finite catch-up time.
        cls.broker.create_topic("e2e-live", 1)
        cls.procs = [
            subprocess.Popen([WORKLOAD, "stream", "--bootstrap", cls.broker.bootstrap, "--topic", "e2e-live", "--rate", "5"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            subprocess.Popen([WORKLOAD, "consume", "--bootstrap", cls.broker.bootstrap, "--group", "e2e-live",
                              "--topic", "e2e-live", "--commit-interval-ms", "200"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        ]
        cls.exporter = Exporter(exporter_config(cls.broker.bootstrap, "e2e", exporter_extra="""
[exporter.consumer_status]
window = 3
min_lag = 5
"""))
        cls.prom_dir = tempfile.mkdtemp(prefix="klag-it-prom-")
        cls.prom_port = free_port()
        cfg = os.path.join(cls.prom_dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {ALERTS}
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
        for p in cls.procs:
            p.send_signal(signal.SIGTERM)
        for p in cls.procs:
            p.wait(30)
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
        total = self.query('sum by (group) (kafka_consumergroup_group_lag{cluster_name="e2e", group="e2e-group"})')
        self.assertEqual(total, {(("group", "e2e-group"),): 28.0})

    def test_every_dashboard_query_returns_data(self):
        with open(DASHBOARD) as f:
            queries = dashboard_queries(json.load(f))
        self.assertGreaterEqual(len(queries), 12)
        empty = {}

        def all_answer():
            empty.clear()
            for where, promql, label in queries:
                res = self.query(promql)  # asserts status success: it parsed
                if not res or (label and not any(label in dict(k) for k in res)):
                    empty[where] = promql
            return not empty
        try:
            wait_until(all_answer, 90, "every dashboard query to return data")
        except AssertionError as e:
            raise AssertionError(f"{e}; queries without data: {empty}") from None
        # The status table shows the statuses the workload makes: e2e-group
        # committed once with lag and no members (stop), e2e-live keeps up.
        status = self.query('max by (group, status) (kafka_consumergroup_group_status{cluster_name="e2e"}) == 1')
        got = {dict(k)["group"]: dict(k)["status"] for k in status}
        self.assertEqual(got.get("e2e-group"), "stop", got)
        self.assertEqual(got.get("e2e-live"), "ok", got)

    def test_alert_rules_load_and_data_loss_fires(self):
        def rules():
            url = f"http://127.0.0.1:{self.prom_port}/api/v1/rules"
            with urllib.request.urlopen(url, timeout=5) as r:
                return json.load(r)["data"]["groups"]
        wait_until(lambda: len(rules()) == 2, 30, "Prometheus to load the alert rules")
        loaded = {rule["name"]: rule for g in rules() for rule in g["rules"]}
        self.assertGreaterEqual(len(loaded), 9)
        # e2e-lost lost 8 records: the rule without `for:` fires at once.
        def firing():
            r = rules()
            for g in r:
                for rule in g["rules"]:
                    self.assertEqual(rule["health"], "ok", rule)
            alert = next(rule for g in r for rule in g["rules"] if rule["name"] == "KafkaConsumerDataLoss")
            return [a["labels"]["group"] for a in alert["alerts"] if a["state"] == "firing"] == ["e2e-lost"]
        wait_until(firing, 60, "KafkaConsumerDataLoss to fire for e2e-lost")


if __name__ == "__main__":
    unittest.main()
