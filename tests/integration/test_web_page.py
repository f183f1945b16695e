"""The web page at "/" in headless Chromium (Debian's, driven by
playwright-core) against a real broker: the lagging group's row shows the
lag Kafka's own ConsumerGroupCommand reports, rows sort by lag, the filter
box filters, clicking a row expands its partitions, and the page loads
nothing but the exporter's own URLs. Also /api/v1/groups against the same
reference. The screenshot is kept as a test artifact."""

import json
import os
import subprocess
import unittest
import urllib.parse

from klag_harness import KafkaTestCase, ROOT, Broker, Exporter, exporter_config, wait_until

PAGE_CHECK = os.path.join(os.path.dirname(__file__), "browser", "page_check.cjs")
ARTIFACTS = os.environ.get("KLAG_ARTIFACTS_DIR", os.path.join(ROOT, "build", "test-artifacts"))


class WebPageTest(KafkaTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        b = cls.broker = Broker()
        b.create_topic("web-orders", 3)
        b.produce("web-orders", 100)
        b.commit("web-lagging", [("web-orders", 0, 10), ("web-orders", 1, 20), ("web-orders", 2, 100)])
        b.commit("web-behind", [("web-orders", 0, 95), ("web-orders", 1, 100), ("web-orders", 2, 100)])
        b.commit("web-caught-up", [("web-orders", p, 100) for p in range(3)])
        b.create_topic("web-retention", 1)
        b.produce("web-retention", 20)
        b.commit("web-lost", [("web-retention", 0, 2)])
        b.workload("delete-records", "--topic", "web-retention", "--partition", "0", "--before", "10")
        cls.exporter = Exporter(exporter_config(b.bootstrap, "web", exporter_extra="""
[exporter.consumer_status]
window = 2
"""))

        def api():
            status, body, _ = cls.exporter.get("/api/v1/groups")
            assert status == 200, status
            return json.loads(body)

        def statuses_known():
            groups = api()["clusters"][0]["groups"]
            return len(groups) == 4 and all(g["status"] not in (None, "unknown") for g in groups)
        wait_until(statuses_known, 60, "every group with a status in /api/v1/groups")
        cls.api = api()
        cls.reference = b.consumer_groups()


    def reference_lag(self, group):
        return {p: int(row["LAG"]) for (g, _, p), row in self.reference.items() if g == group}

    def test_api_matches_consumer_group_command(self):
        (cluster,) = self.api["clusters"]
        self.assertEqual(cluster["name"], "web")
        self.assertTrue(cluster["up"])
        groups = {g["group"]: g for g in cluster["groups"]}
        for name in ("web-lagging", "web-behind", "web-caught-up"):
            ref = self.reference_lag(name)
            self.assertEqual({p["partition"]: p["lag"] for p in groups[name]["partitions"]}, ref, name)
            self.assertEqual(groups[name]["sum_lag"], sum(ref.values()), name)
        self.assertEqual(groups["web-lagging"]["sum_lag"], 170)
        self.assertEqual(groups["web-lost"]["data_loss"], True)
        self.assertEqual(groups["web-lost"]["partitions"][0]["messages_lost"], 8)
        self.assertEqual(groups["web-caught-up"]["status"], "ok")
        self.assertEqual(groups["web-lagging"]["status"], "stop")
        status, _, headers = self.exporter.get("/api/v1/groups")
        self.assertEqual(headers.get("Content-Type"), "application/json")

    def test_page_in_chromium(self):
        os.makedirs(ARTIFACTS, exist_ok=True)
        shot = os.path.join(ARTIFACTS, "web-page.png")
        base = f"http://127.0.0.1:{self.exporter.port}/"
        res = subprocess.run(["node", PAGE_CHECK, base, "web", "web-lagging", "behind", shot],
                             capture_output=True, text=True, timeout=180, env=dict(os.environ))
        self.assertEqual(res.returncode, 0, res.stderr)
        seen = json.loads(res.stdout)
        self.assertEqual(seen["page_errors"], [])
        self.assertEqual(seen["console_errors"], [])
        # Only the exporter's own URLs: no CDN, no fonts from elsewhere.
        for u in seen["requests"]:
            self.assertTrue(u.startswith(base), u)
        self.assertIn(urllib.parse.urljoin(base, "/api/v1/groups"), seen["requests"])

        rows = {r["group"]: r for r in seen["rows"]}
        ref = self.reference_lag("web-lagging")
        self.assertEqual(rows["web-lagging"]["lag"], f"{sum(ref.values()):,}")
        self.assertIn("stop", rows["web-lagging"]["status"])
        self.assertIn("data loss", rows["web-lost"]["flags"])
        # Sorted by total lag, largest first.
        order = [r["group"] for r in seen["rows"]]
        self.assertEqual(order[:3], ["web-lagging", "web-lost", "web-behind"])
        self.assertEqual(order[-1], "web-caught-up")
        # The filter box.
        self.assertEqual(seen["filtered"], ["web-behind"])
        self.assertEqual(seen["count_text"], "1 of 4 groups")
        # The expanded partition table, before and after a refresh.
        expected = [{"topic": "web-orders", "partition": p, "lag": f"{lag:,}"} for p, lag in sorted(ref.items())]
        self.assertEqual(seen["partitions"], expected)
        self.assertEqual(seen["partitions_after_refresh"], expected)
        self.assertTrue(any("web" in c and "up" in c for c in seen["clusters"]), seen["clusters"])
        self.assertGreater(os.path.getsize(shot), 10_000)


if __name__ == "__main__":
    unittest.main()
