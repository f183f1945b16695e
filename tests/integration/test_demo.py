"""The README's demo command, run as a user would: scripts/demo.sh starts a
broker, the workload, the exporter on :8000 and Prometheus with our alert
rules; within a few minutes the workload makes KafkaConsumerDataLoss fire
for demo-stopped; Ctrl-C (SIGINT) stops everything."""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

from klag_harness import ROOT, free_port, wait_until


def port_in_use(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


class DemoTest(unittest.TestCase):
    def test_demo_serves_lag_and_an_alert_fires(self):
        self.assertFalse(port_in_use(8000), "the demo needs port 8000 (config/demo.toml), which is taken")
        prom_port = free_port()
        log = tempfile.NamedTemporaryFile("w+", prefix="klag-demo-", suffix=".log", delete=False)
        env = dict(os.environ, KLAG_DEMO_PROMETHEUS_PORT=str(prom_port))
        # Its own process group, so SIGINT reaches the script as Ctrl-C would.
        demo = subprocess.Popen(["bash", os.path.join(ROOT, "scripts", "demo.sh")], stdout=log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            wait_until(lambda: port_in_use(8000) and port_in_use(prom_port), 300, "the exporter and Prometheus")
            with open(log.name) as f:
                self.assertIn(f"http://localhost:{prom_port}/alerts", f.read())

            def lagging():
                with urllib.request.urlopen("http://127.0.0.1:8000/api/v1/groups", timeout=5) as r:
                    groups = {g["group"]: g for g in json.load(r)["clusters"][0]["groups"]}
                return groups["demo-slow"]["sum_lag"] > 0 and groups["demo-stopped"]["members"] == 0
            wait_until(lagging, 120, "demo-slow and demo-stopped with lag on the web page's API")

            started = time.time()

            def data_loss_fires():
                alerts = get_json(f"http://127.0.0.1:{prom_port}/api/v1/alerts")["data"]["alerts"]
                return any(a["labels"]["alertname"] == "KafkaConsumerDataLoss" and a["state"] == "firing" and
                           a["labels"]["group"] == "demo-stopped" for a in alerts)
            wait_until(data_loss_fires, 300, "KafkaConsumerDataLoss to fire for demo-stopped")
            print(f"KafkaConsumerDataLoss fired {time.time() - started:.0f} s after the demo came up")
        finally:
            os.killpg(demo.pid, signal.SIGINT)
            try:
                demo.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
                raise
            with open(log.name) as f:
                output = f.read()
            os.unlink(log.name)
        self.assertIn("demo: stopping", output)
        wait_until(lambda: not port_in_use(8000) and not port_in_use(prom_port), 30, "the demo's ports to close")


if __name__ == "__main__":
    unittest.main()
