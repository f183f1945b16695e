#!/usr/bin/env python3
"""A first scale check (the full generator of issue 6 will replace it):
T topics x P partitions with a few records each, G groups each committed on
every partition of 5 topics (no consumers running), then the exporter with
default settings (time-lag sampling on) for 4 cycles.

Prints the last cycle's time, sampling time, series count, /metrics size and
the exporter's RSS. Usage: bench/scale_check.py [--topics 100]
[--partitions 20] [--groups 400] (after cmake --build build)."""

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from klag_harness import WORKLOAD, Broker, Exporter, value, wait_until  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--partitions", type=int, default=20)
    ap.add_argument("--groups", type=int, default=400)
    args = ap.parse_args()
    b = Broker()
    try:
        t0 = time.time()
        for i in range(args.topics):
            b.create_topic(f"s{i}", args.partitions)
        procs = [subprocess.Popen([WORKLOAD, "produce", "--bootstrap", b.bootstrap, "--topic", f"s{i}", "--count", "3"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(args.topics)]
        for p in procs:
            p.wait()

        def commit(g):
            cmd = [WORKLOAD, "commit", "--bootstrap", b.bootstrap, "--group", f"g{g}"]
            for k in range(5):
                t = (g * 5 + k) % args.topics
                cmd += [a for p in range(args.partitions) for a in ("--offset", f"s{t}:{p}:1")]
            return subprocess.Popen(cmd, stdout=subprocess.DEVNULL)

        for start in range(0, args.groups, 20):
            for p in [commit(g) for g in range(start, min(args.groups, start + 20))]:
                p.wait()
        print(f"setup: {time.time() - t0:.0f} s", file=sys.stderr)

        e = Exporter(f"""
[exporter]
poll_interval = "3s"
http_port = @HTTP_PORT@
http_host = "127.0.0.1"
[[clusters]]
name = "s"
bootstrap_servers = "{b.bootstrap}"
""")
        wait_until(lambda: value(e.metrics(), "kafka_lag_exporter_cycles_total", cluster_name="s") >= 4, 300, "4 cycles")
        text = e.metrics_text()
        m = e.metrics()
        with open(f"/proc/{e.proc.pid}/status") as f:
            mem = {l.split(":")[0]: l.split(":")[1].strip() for l in f if l.startswith(("VmRSS", "VmHWM"))}
        e.stop()
        lag_series = sum(1 for k in m if k[0] == "kafka_consumergroup_group_lag")
        print(f"| {args.topics * args.partitions} partitions, {args.groups} groups, {lag_series} group partitions | value |")
        print("|---|---|")
        print(f"| cycle time (4th cycle, warm cache) | {value(m, 'kafka_lag_exporter_scrape_duration_seconds', cluster_name='s'):.2f} s |")
        print(f"| of which time-lag sampling | {value(m, 'kafka_lag_exporter_timestamp_sampling_duration_seconds', cluster_name='s') * 1000:.0f} ms |")
        print(f"| series | {len(m)} |")
        print(f"| /metrics size | {len(text) / 1e6:.1f} MB |")
        print(f"| RSS now / peak | {mem['VmRSS']} / {mem['VmHWM']} |")
    finally:
        b.purge()


if __name__ == "__main__":
    main()
