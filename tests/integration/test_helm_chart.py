"""The Helm chart (deploy/helm/klag-exporter), rendered with a real helm
across several value sets: the output is well-formed Kubernetes YAML whose
objects refer to each other correctly, and the rendered config passes
`klag-exporter --check-config`."""

import os
import re
import subprocess
import tempfile
import unittest

import yaml

from klag_harness import EXPORTER, ROOT

HELM = os.environ.get("KLAG_HELM", "helm")
CHART = os.path.join(ROOT, "deploy", "helm", "klag-exporter")
ALERTS = os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")
DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

VALUE_SETS = {
    "defaults": {},
    "kubernetes-leadership": {
        "replicas": 2,
        "config": {
            "exporter": {"poll_interval": "15s", "leadership": {"enabled": True, "provider": "kubernetes",
                                                                "lease_name": "klag-lease"}},
            "clusters": [{"name": "prod", "bootstrap_servers": "kafka-0:9093,kafka-1:9093",
                          "consumer_properties": {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
                                                  "sasl.username": "${KAFKA_USERNAME}",
                                                  "sasl.password": "${KAFKA_PASSWORD}"},
                          "labels": {"environment": "production", "team": "payments"}}],
        },
        "secretEnv": [{"name": "KAFKA_USERNAME", "secretName": "kafka-credentials", "key": "username"},
                      {"name": "KAFKA_PASSWORD", "secretName": "kafka-credentials", "key": "password"}],
        "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
        "prometheusRule": {"enabled": True},
    },
    "sharding-topic-granularity": {
        "replicas": 3,
        "config": {
            "exporter": {"http_port": 9100, "granularity": "topic", "member_labels": False,
                         "sharding": {"enabled": True, "partitions": 32},
                         "consumer_status": {"window": 6, "min_lag": 100, "partition_status": False},
                         "timestamp_sampling": {"enabled": False}},
            "clusters": [{"name": "a", "bootstrap_servers": "a:9092", "group_blacklist": ["console-consumer-.*"]},
                         {"name": "b", "bootstrap_servers": "b:9092", "topic_whitelist": ["orders-.*"]}],
        },
        "service": {"port": 9100},
    },
    "kafka-leadership": {
        "replicas": 2,
        "config": {"exporter": {"leadership": {"enabled": True, "session_timeout": "6s"}},
                   "clusters": [{"name": "main", "bootstrap_servers": "kafka:9092"}]},
    },
    "web-tls-basic-auth": {
        "webConfig": {"secretName": "klag-web", "tls": True, "basicAuth": True},
        "serviceMonitor": {"enabled": True,
                           "tlsConfig": {"ca": {"secret": {"name": "klag-web", "key": "ca.pem"}}},
                           "basicAuth": {"username": {"name": "klag-scrape", "key": "username"},
                                         "password": {"name": "klag-scrape", "key": "password"}}},
    },
    "web-tls-only": {
        "webConfig": {"secretName": "klag-web", "tls": True},
    },
}
# What a pod gets: the secrets, POD_NAME and the API server address.
ENV = {"KAFKA_USERNAME": "exporter", "KAFKA_PASSWORD": "secret", "POD_NAME": "klag-0",
       "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}


def render(values, namespace="monitoring", expect_failure=False):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(values, f)
        path = f.name
    try:
        res = subprocess.run([HELM, "template", "klag", CHART, "--namespace", namespace, "-f", path],
                             capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(path)
    if expect_failure:
        if res.returncode == 0:
            raise AssertionError("helm template succeeded")
        return res.stderr
    if res.returncode != 0:
        raise AssertionError(f"helm template failed: {res.stderr}")
    return [d for d in yaml.safe_load_all(res.stdout) if d]


def check_config(toml_text):
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(toml_text)
        path = f.name
    try:
        return subprocess.run([EXPORTER, "--check-config", "-c", path], capture_output=True, text=True, timeout=30,
                              env=dict(os.environ, **ENV))
    finally:
        os.unlink(path)


class HelmChartTest(unittest.TestCase):
    def objects(self, name):
        docs = render(VALUE_SETS[name])
        by_kind = {}
        for d in docs:
            self.assertIsInstance(d.get("apiVersion"), str, d)
            self.assertIsInstance(d.get("kind"), str, d)
            meta = d.get("metadata", {})
            self.assertTrue(DNS1123.match(meta.get("name", "")) and len(meta["name"]) <= 63, meta)
            for k, v in meta.get("labels", {}).items():
                self.assertIsInstance(v, str, (k, v))
            self.assertNotIn(d["kind"], by_kind, f"two {d['kind']} objects")
            by_kind[d["kind"]] = d
        return by_kind

    def test_lint(self):
        res = subprocess.run([HELM, "lint", CHART], capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

    def test_every_value_set_renders_consistent_objects_and_a_valid_config(self):
        for name, values in VALUE_SETS.items():
            with self.subTest(values=name):
                objs = self.objects(name)
                expected = {"ConfigMap", "Deployment", "Service", "ServiceAccount"}
                if name == "kubernetes-leadership":
                    expected |= {"Role", "RoleBinding", "ServiceMonitor", "PrometheusRule"}
                if values.get("serviceMonitor", {}).get("enabled") and name != "kubernetes-leadership":
                    expected |= {"ServiceMonitor"}
                self.assertEqual(set(objs), expected)

                dep = objs["Deployment"]
                pod = dep["spec"]["template"]
                pod_labels = pod["metadata"]["labels"]
                self.assertLessEqual(dep["spec"]["selector"]["matchLabels"].items(), pod_labels.items())
                self.assertEqual(dep["spec"]["replicas"], values.get("replicas", 1))
                (container,) = pod["spec"]["containers"]
                ports = {p["name"]: p["containerPort"] for p in container["ports"]}
                http_port = values.get("config", {}).get("exporter", {}).get("http_port", 8000)
                self.assertEqual(ports, {"http": http_port})
                web = values.get("webConfig", {})
                # A standby is never /ready: with leader election a rolling
                # update would wait for it forever, so readiness is /health.
                leadership = values.get("config", {}).get("exporter", {}).get("leadership", {}).get("enabled")
                if web.get("basicAuth"):
                    # Probes cannot send credentials: they check the port.
                    for probe in ("livenessProbe", "readinessProbe"):
                        self.assertEqual(container[probe]["tcpSocket"], {"port": "http"})
                        self.assertNotIn("httpGet", container[probe])
                else:
                    scheme = {"scheme": "HTTPS"} if web.get("tls") else {}
                    self.assertEqual(container["livenessProbe"]["httpGet"],
                                     {"path": "/health", "port": "http", **scheme})
                    self.assertEqual(container["readinessProbe"]["httpGet"],
                                     {"path": "/health" if leadership else "/ready", "port": "http", **scheme})
                self.assertTrue(pod["spec"]["securityContext"]["runAsNonRoot"])
                self.assertIn("memory", container["resources"]["requests"])
                self.assertEqual(pod["spec"]["serviceAccountName"], objs["ServiceAccount"]["metadata"]["name"])
                volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
                mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
                self.assertEqual(volumes["config"]["configMap"]["name"], objs["ConfigMap"]["metadata"]["name"])
                if web.get("secretName"):
                    self.assertEqual(set(volumes), {"config", "web"})
                    self.assertEqual(volumes["web"]["secret"]["secretName"], web["secretName"])
                    # Not nested in the read-only config mount.
                    self.assertFalse(mounts["web"].startswith(mounts["config"] + "/"))
                    i = container["args"].index("--web.config.file")
                    self.assertEqual(container["args"][i + 1], mounts["web"] + "/web.yml")
                else:
                    self.assertEqual(set(volumes), {"config"})
                    self.assertNotIn("--web.config.file", container["args"])
                secrets = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]
                           if "secretKeyRef" in e.get("valueFrom", {})}
                self.assertEqual(secrets, {s["name"]: {"name": s["secretName"], "key": s["key"]}
                                           for s in values.get("secretEnv", [])})

                svc = objs["Service"]
                self.assertLessEqual(svc["spec"]["selector"].items(), pod_labels.items())
                self.assertEqual(svc["spec"]["ports"][0]["targetPort"], "http")

                config = objs["ConfigMap"]["data"]["config.toml"]
                res = check_config(config)
                self.assertEqual(res.returncode, 0, f"{res.stdout}{res.stderr}\n{config}")

                if "Role" in objs:
                    role, binding = objs["Role"], objs["RoleBinding"]
                    self.assertEqual(role["metadata"]["namespace"], "monitoring")
                    self.assertEqual(role["rules"][0]["resourceNames"], ["klag-lease"])
                    self.assertEqual(binding["roleRef"]["name"], role["metadata"]["name"])
                    self.assertEqual(binding["subjects"][0]["name"], objs["ServiceAccount"]["metadata"]["name"])
                    # The lease lives where the chart's RBAC allows it.
                    self.assertIn('"lease_namespace" = "monitoring"', config)
                if "ServiceMonitor" in objs:
                    sm = objs["ServiceMonitor"]["spec"]
                    self.assertLessEqual(sm["selector"]["matchLabels"].items(), svc["metadata"]["labels"].items())
                    self.assertEqual(sm["endpoints"][0]["port"], "http")
                    sm_values = values.get("serviceMonitor", {})
                    if web.get("tls"):
                        self.assertEqual(sm["endpoints"][0]["scheme"], "https")
                    for key in ("tlsConfig", "basicAuth"):
                        if sm_values.get(key):
                            self.assertEqual(sm["endpoints"][0][key], sm_values[key])
                    self.assertEqual(svc["metadata"]["labels"][sm["jobLabel"]], "klag-exporter")
                if "PrometheusRule" in objs:
                    with open(ALERTS) as f:
                        self.assertEqual(objs["PrometheusRule"]["spec"], yaml.safe_load(f))

    def test_the_rendered_config_carries_the_values(self):
        config = self.objects("sharding-topic-granularity")["ConfigMap"]["data"]["config.toml"]
        for line in ('"granularity" = "topic"', '"http_port" = 9100', "[exporter.sharding]", '"partitions" = 32',
                     "[exporter.consumer_status]", '"partition_status" = false', '"topic_whitelist" = ["orders-.*"]'):
            self.assertIn(line, config)
        self.assertEqual(config.count("[[clusters]]"), 2)

    def test_a_nested_map_the_toml_cannot_hold_fails_the_render(self):
        # security: {protocol: ...} would silently lose the setting.
        err = render({"config": {"clusters": [{"name": "a", "bootstrap_servers": "a:9092",
                                               "consumer_properties": {"security": {"protocol": "SSL"}}}]}},
                     expect_failure=True)
        self.assertIn("clusters[].consumer_properties.security is a map", err)

    def test_a_bad_key_in_the_values_fails_check_config_by_name(self):
        docs = render({"config": {"exporter": {"pol_interval": "30s"}}})
        config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]["config.toml"]
        res = check_config(config)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("exporter.pol_interval", res.stderr + res.stdout)


if __name__ == "__main__":
    unittest.main()
