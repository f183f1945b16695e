"""Offset lag on a real broker, asserted value by value against Kafka's own
ConsumerGroupCommand, plus filters, granularity, custom and member labels,
the HTTP endpoints and promtool on a live scrape."""

import json
import subprocess
import unittest

from klag_harness import Broker, Exporter, exporter_config, gunzip, parse_metrics, select, value, wait_until

GROUPS = ("it-live", "it-empty", "it-two-topics")


def config(bootstrap, granularity, sampling=True):
    return exporter_config(exporter_extra=f"""
granularity = "{granularity}"

[exporter.timestamp_sampling]
enabled = {"true" if sampling else "false"}
""") + f"""
[[clusters]]
name = "main"
bootstrap_servers = "{bootstrap}"
group_whitelist = ["it-.*"]
group_blacklist = ["it-filtered.*"]
topic_whitelist = [".*"]
topic_blacklist = ["__.*"]
[clusters.labels]
env = "test"
dc = "local-1"

[[clusters]]
name = "narrow"
bootstrap_servers = "{bootstrap}"
member_labels = false
group_whitelist = ["it-two"]       # anchored: matches no group
topic_whitelist = ["orders"]

[[clusters]]
name = "nomembers"
bootstrap_servers = "{bootstrap}"
member_labels = false
group_whitelist = ["it-live"]
"""


class OffsetLagTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker()
        b = cls.broker
        b.create_topic("orders", 3)
        b.create_topic("payments", 2)
        b.create_topic("audit", 1)
        b.produce("orders", 50)
        b.produce("payments", 30)
        b.produce("audit", 10)
        b.commit("it-empty", [("orders", 0, 45), ("orders", 1, 50)])
        b.commit("it-two-topics", [("orders", 2, 5), ("payments", 0, 7), ("payments", 1, 30)])
        b.commit("it-filtered-out", [("audit", 0, 3)])
        cls.member = b.start_member("it-live", ["orders"], commits=[("orders", 0, 10), ("orders", 1, 20), ("orders", 2, 30)],
                                    client_id="it-live-client")
        cls.exporter = Exporter(config(b.bootstrap, "partition"))
        cls.topic_exporter = Exporter(config(b.bootstrap, "topic", sampling=False))

        def all_groups_seen(exp):
            m = exp.metrics()
            return all(select(m, "kafka_consumergroup_group_sum_lag", cluster_name="main", group=g) for g in GROUPS)

        wait_until(lambda: all_groups_seen(cls.exporter), 60, "all groups in /metrics")
        wait_until(lambda: all_groups_seen(cls.topic_exporter), 60, "all groups in topic-granularity /metrics")
        cls.reference = b.consumer_groups()
        cls.metrics = cls.exporter.metrics()
        cls.topic_metrics = cls.topic_exporter.metrics()

    @classmethod
    def tearDownClass(cls):
        for e in (cls.exporter, cls.topic_exporter):
            e.stop()
        cls.member.terminate()
        cls.member.wait(timeout=15)
        cls.broker.purge()

    def reference_rows(self):
        return {k: r for k, r in self.reference.items() if k[0] in GROUPS}

    def test_reference_sees_the_workload(self):
        # Guards the comparison below against an empty reference.
        rows = self.reference_rows()
        self.assertEqual(len(rows), 8)
        self.assertEqual(rows[("it-live", "orders", 0)]["LAG"], "40")
        self.assertEqual(rows[("it-two-topics", "payments", 0)]["LAG"], "23")

    def test_every_lag_and_offset_equals_consumer_group_command(self):
        m = self.metrics
        expected_keys = set(self.reference_rows())
        got_keys = {(dict(l)["group"], dict(l)["topic"], int(dict(l)["partition"]))
                    for l in select(m, "kafka_consumergroup_group_lag", cluster_name="main")}
        self.assertEqual(got_keys, expected_keys)
        for (g, t, p), row in self.reference_rows().items():
            with self.subTest(group=g, topic=t, partition=p):
                self.assertEqual(value(m, "kafka_consumergroup_group_lag", cluster_name="main", group=g, topic=t, partition=p),
                                 int(row["LAG"]))
                self.assertEqual(value(m, "kafka_consumergroup_group_offset", cluster_name="main", group=g, topic=t, partition=p),
                                 int(row["CURRENT-OFFSET"]))
                self.assertEqual(value(m, "kafka_partition_latest_offset", cluster_name="main", topic=t, partition=p),
                                 int(row["LOG-END-OFFSET"]))
                self.assertEqual(value(m, "kafka_partition_earliest_offset", cluster_name="main", topic=t, partition=p), 0)

    def test_aggregates_equal_sums_of_reference_lags(self):
        rows = self.reference_rows()
        for g in GROUPS:
            lags = [int(r["LAG"]) for (grp, _, _), r in rows.items() if grp == g]
            self.assertEqual(value(self.metrics, "kafka_consumergroup_group_sum_lag", cluster_name="main", group=g), sum(lags))
            self.assertEqual(value(self.metrics, "kafka_consumergroup_group_max_lag", cluster_name="main", group=g), max(lags))
            for t in {t for (grp, t, _) in rows if grp == g}:
                tl = sum(int(r["LAG"]) for (grp, tt, _), r in rows.items() if grp == g and tt == t)
                self.assertEqual(value(self.metrics, "kafka_consumergroup_group_topic_sum_lag", cluster_name="main", group=g, topic=t), tl)
                self.assertEqual(value(self.topic_metrics, "kafka_consumergroup_group_topic_sum_lag", cluster_name="main", group=g, topic=t), tl)

    def test_live_member_labels_match_the_reference(self):
        for p in range(3):
            row = self.reference[("it-live", "orders", p)]
            series = select(self.metrics, "kafka_consumergroup_group_lag", cluster_name="main", group="it-live", partition=p)
            self.assertEqual(len(series), 1)
            labels = dict(next(iter(series)))
            self.assertEqual(labels["consumer_id"], row["CONSUMER-ID"])
            self.assertEqual(labels["member_host"], row["HOST"])
            self.assertEqual(labels["client_id"], "it-live-client")
            self.assertEqual(row["CLIENT-ID"], "it-live-client")
        # Partitions of a group without members carry empty member labels.
        labels = dict(next(iter(select(self.metrics, "kafka_consumergroup_group_lag", group="it-empty", partition=0))))
        self.assertEqual((labels["member_host"], labels["consumer_id"], labels["client_id"]), ("", "", ""))

    def test_group_state_and_members(self):
        m = self.metrics
        self.assertEqual(value(m, "kafka_consumergroup_group_members", cluster_name="main", group="it-live"), 1)
        self.assertEqual(value(m, "kafka_consumergroup_group_members", cluster_name="main", group="it-empty"), 0)
        live = dict(next(iter(select(m, "kafka_consumergroup_group_info", cluster_name="main", group="it-live"))))
        self.assertEqual(live["state"], "Stable")
        self.assertEqual(live["assignor"], "range")
        empty = dict(next(iter(select(m, "kafka_consumergroup_group_info", cluster_name="main", group="it-empty"))))
        self.assertEqual(empty["state"], "Empty")
        # The reference's numeric encoding of the same states: 3 Stable, 5 Empty.
        self.assertEqual(value(m, "kafka_consumergroup_group_state", cluster_name="main", group="it-live"), 3)
        self.assertEqual(value(m, "kafka_consumergroup_group_state", cluster_name="main", group="it-empty"), 5)

    def test_group_filter_is_anchored_and_deny_wins(self):
        self.assertEqual(select(self.metrics, "kafka_consumergroup_group_info", group="it-filtered-out"), {})
        # "narrow" allows only the group named exactly "it-two": none exists.
        self.assertEqual(select(self.metrics, "kafka_consumergroup_group_info", cluster_name="narrow"), {})

    def test_member_labels_can_be_dropped_per_cluster(self):
        series = select(self.metrics, "kafka_consumergroup_group_lag", cluster_name="nomembers")
        self.assertEqual(len(series), 3)
        for labels in series:
            self.assertEqual({k for k, _ in labels}, {"cluster_name", "group", "topic", "partition"})
        self.assertEqual(value(self.metrics, "kafka_consumergroup_group_lag", cluster_name="nomembers", group="it-live",
                               topic="orders", partition=0), int(self.reference[("it-live", "orders", 0)]["LAG"]))

    def test_malformed_requests_get_4xx_and_the_server_survives(self):
        import socket
        for raw in (b"GARBAGE\r\n\r\n", b"GET /metrics HTTP/9.9\r\n\r\n", b"GET / HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n",
                    b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", self.exporter.port), timeout=5) as s:
                try:
                    s.sendall(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                status_line = s.recv(64).split(b"\r\n")[0]
                with self.subTest(raw=raw[:30]):
                    self.assertRegex(status_line, rb"^HTTP/1\.[01] 4\d\d |^HTTP/1\.[01] 505 ")
        self.assertEqual(self.exporter.get("/health")[0], 200)

    def test_topic_filter(self):
        topics = {dict(l)["topic"] for l in select(self.metrics, "kafka_partition_latest_offset", cluster_name="narrow")}
        self.assertEqual(topics, {"orders"})
        main_topics = {dict(l)["topic"] for l in select(self.metrics, "kafka_partition_latest_offset", cluster_name="main")}
        self.assertTrue({"orders", "payments", "audit"} <= main_topics)
        self.assertFalse(any(t.startswith("__") for t in main_topics))

    def test_custom_labels_on_every_series_of_the_cluster(self):
        main = [dict(l) for (n, l) in self.metrics if dict(l).get("cluster_name") == "main"]
        self.assertGreater(len(main), 20)
        for labels in main:
            self.assertEqual((labels.get("env"), labels.get("dc")), ("test", "local-1"), labels)
        narrow = [dict(l) for (n, l) in self.metrics if dict(l).get("cluster_name") == "narrow"]
        self.assertTrue(narrow)
        self.assertTrue(all("env" not in l for l in narrow))

    def test_topic_granularity_drops_partition_level_group_series(self):
        m = self.topic_metrics
        self.assertEqual(select(m, "kafka_consumergroup_group_lag"), {})
        self.assertEqual(select(m, "kafka_consumergroup_group_offset"), {})
        self.assertEqual(value(m, "kafka_consumergroup_group_sum_lag", cluster_name="main", group="it-live"),
                         value(self.metrics, "kafka_consumergroup_group_sum_lag", cluster_name="main", group="it-live"))

    def test_disabled_sampling_reads_nothing_and_exports_no_time_lag(self):
        m = self.topic_metrics
        for name in ("kafka_consumergroup_group_lag_seconds", "kafka_consumergroup_group_max_lag_seconds",
                     "kafka_lag_exporter_timestamp_samples_total", "kafka_lag_exporter_timestamp_fetch_bytes_total"):
            self.assertEqual(select(m, name), {}, name)
        # ...while the exporter with sampling on has time lag for the same groups.
        self.assertGreater(value(self.metrics, "kafka_consumergroup_group_max_lag_seconds", cluster_name="main",
                                 group="it-live"), 0)

    def test_up_and_cycle_metrics(self):
        m = self.metrics
        self.assertEqual(value(m, "kafka_lag_exporter_up", cluster_name="main"), 1)
        self.assertEqual(m[("kafka_lag_exporter_up", ())], 1)
        self.assertGreater(value(m, "kafka_lag_exporter_last_update_timestamp_seconds", cluster_name="main"), 1.6e9)
        self.assertGreater(value(m, "kafka_lag_exporter_scrape_duration_seconds", cluster_name="main"), 0)

    def test_http_endpoints(self):
        e = self.exporter
        self.assertEqual(e.get("/health")[0], 200)
        self.assertEqual(e.get("/ready")[0], 200)
        status, body, headers = e.get("/leader")
        self.assertEqual((status, body.strip()), (200, b'{"is_leader": true}'))
        status, body, headers = e.get("/")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("Content-Type", "").startswith("text/html"))
        self.assertIn(b"/api/v1/groups", body)
        status, body, headers = e.get("/api/v1/groups")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["clusters"][0]["name"], "main")
        self.assertEqual(e.get("/nope")[0], 404)
        status, body, headers = e.get("/metrics", {"Accept-Encoding": "gzip"})
        self.assertEqual(headers.get("Content-Encoding"), "gzip")
        text = gunzip(body)
        self.assertIn("kafka_consumergroup_group_lag{", text)
        self.assertTrue(parse_metrics(text))

    def test_promtool_accepts_a_live_scrape(self):
        res = subprocess.run(["promtool", "check", "metrics"], input=self.exporter.metrics_text(),
                             capture_output=True, text=True)
        # The only lint findings are two of the reference's own metric names,
        # kept for drop-in compatibility (docs/metrics.md). Anything else,
        # including any parse error, fails.
        problems = sorted(l for l in (res.stdout + res.stderr).splitlines() if l.strip())
        self.assertEqual(problems, [
            "kafka_consumergroup_poll_time_ms metric names should not contain abbreviated units",
            'kafka_lag_exporter_compaction_detected_total non-counter metrics should not have "_total" suffix',
            'kafka_lag_exporter_data_loss_partitions_total non-counter metrics should not have "_total" suffix',
        ])


if __name__ == "__main__":
    unittest.main()
