"""Config hot reload: SIGHUP and POST /-/reload add and remove clusters,
leave unchanged clusters' loops alone, and reject a broken file while the
exporter keeps running on the old config (the Prometheus convention)."""

import os
import signal
import unittest

from klag_harness import Broker, Exporter, exporter_config, select, value, wait_until

HEAD = exporter_config()


def cluster(name, bootstrap):
    return f'\n[[clusters]]\nname = "{name}"\nbootstrap_servers = "{bootstrap}"\ngroup_whitelist = ["rl-.*"]\n'


class ReloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a = Broker()
        cls.b = Broker()
        for br, off in ((cls.a, 4), (cls.b, 9)):
            br.create_topic("orders", 1)
            br.produce("orders", 12)
            br.commit("rl-group", [("orders", 0, off)])
        cls.exporter = Exporter(HEAD + cluster("alpha", cls.a.bootstrap))

    @classmethod
    def tearDownClass(cls):
        cls.exporter.stop()
        cls.a.purge()
        cls.b.purge()

    def write_config(self, text):
        with open(self.exporter.config_path, "w") as f:
            f.write(text.replace("@HTTP_PORT@", str(self.exporter.port)))

    def lag(self, m, name):
        return value(m, "kafka_consumergroup_group_lag", cluster_name=name, group="rl-group", topic="orders",
                     partition=0)

    def test_add_remove_and_reject(self):
        e = self.exporter
        wait_until(lambda: self.lag(e.metrics(), "alpha") == 8, 60, "alpha's lag")
        wait_until(lambda: value(e.metrics(), "kafka_lag_exporter_cycles_total", cluster_name="alpha") >= 3, 30,
                   "a few alpha cycles")
        m = e.metrics()
        self.assertEqual(value(m, "kafka_lag_exporter_config_last_reload_successful"), 1)
        started_at = value(m, "kafka_lag_exporter_config_last_reload_success_timestamp_seconds")
        alpha_cycles = value(m, "kafka_lag_exporter_cycles_total", cluster_name="alpha")

        # 1. Add a cluster with SIGHUP.
        self.write_config(HEAD + cluster("alpha", self.a.bootstrap) + cluster("beta", self.b.bootstrap))
        e.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: self.lag(e.metrics(), "beta") == 3, 30, "beta's lag after the reload")
        m = e.metrics()
        self.assertEqual(self.lag(m, "alpha"), 8)
        self.assertEqual(value(m, "kafka_lag_exporter_config_last_reload_successful"), 1)
        self.assertGreater(value(m, "kafka_lag_exporter_config_last_reload_success_timestamp_seconds"), started_at)
        # alpha was unchanged: the same loop goes on (one start in the log),
        # and its cycle count continues from where it was instead of
        # starting over from 0.
        self.assertEqual(e.log_text().count("cluster alpha: collecting from"), 1)
        self.assertGreaterEqual(value(m, "kafka_lag_exporter_cycles_total", cluster_name="alpha"), alpha_cycles)
        wait_until(lambda: value(e.metrics(), "kafka_lag_exporter_cycles_total", cluster_name="alpha") > alpha_cycles,
                   10, "alpha's next cycle")
        self.assertIn("config reloaded: added beta; removed none; restarted none; unchanged alpha", e.log_text())

        # 2. A broken file over HTTP: 500 with the error, old config kept.
        self.write_config(HEAD + cluster("alpha", self.a.bootstrap) + "\n[[clusters]]\nname = \"gamma\"\n")
        status, body = e.post("/-/reload")
        self.assertEqual(status, 500)
        self.assertIn("clusters[1].bootstrap_servers", body.decode())
        m = e.metrics()
        self.assertEqual(value(m, "kafka_lag_exporter_config_last_reload_successful"), 0)
        self.assertEqual(self.lag(m, "alpha"), 8)
        self.assertEqual(self.lag(m, "beta"), 3)
        self.assertIn("config reload rejected", e.log_text())
        self.assertIsNone(e.proc.poll(), "the exporter must keep running")
        # A start-only setting is refused by name.
        self.write_config(HEAD.replace('http_host = "127.0.0.1"', 'http_host = "::1"') +
                          cluster("alpha", self.a.bootstrap))
        status, body = e.post("/-/reload")
        self.assertEqual(status, 500)
        self.assertIn("exporter.http_host changed", body.decode())

        # 3. Remove alpha over HTTP: its series go, beta stays, status back to 1.
        self.write_config(HEAD + cluster("beta", self.b.bootstrap))
        status, body = e.post("/-/reload")
        self.assertEqual(status, 200, body)
        m = e.metrics()
        self.assertEqual(select(m, "kafka_lag_exporter_up", cluster_name="alpha"), {})
        self.assertEqual(select(m, "kafka_consumergroup_group_lag", cluster_name="alpha"), {})
        self.assertEqual(self.lag(m, "beta"), 3)
        self.assertEqual(value(m, "kafka_lag_exporter_config_last_reload_successful"), 1)
        # GET is not a reload.
        self.assertEqual(e.get("/-/reload")[0], 405)

        # 4. A changed cluster restarts with its new settings.
        self.assertEqual(e.log_text().count("cluster beta: collecting from"), 1)
        self.b.commit("rl-other", [("orders", 0, 2)])
        changed = cluster("beta", self.b.bootstrap).replace('["rl-.*"]', '["rl-other"]')
        self.write_config(HEAD + changed)
        e.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: value(e.metrics(), "kafka_consumergroup_group_lag", cluster_name="beta",
                                 group="rl-other", topic="orders", partition=0) == 10, 30, "beta's new filter")
        self.assertEqual(select(e.metrics(), "kafka_consumergroup_group_lag", group="rl-group"), {})
        self.assertEqual(e.log_text().count("cluster beta: collecting from"), 2)
        self.assertEqual(e.get("/health")[0], 200)


if __name__ == "__main__":
    unittest.main()
