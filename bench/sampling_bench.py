#!/usr/bin/env python3
"""Time-lag sampling cost on a local broker: N partitions each with one
lagging group, so every cycle needs N record timestamps.

Prints, as medians over the cycles measured: the time sampling adds to a
cycle on a cold cache (every offset read from Kafka) and in steady state
(served from the cache), bytes fetched per sample, and the cache hit rate.

Usage: bench/sampling_bench.py [--partitions 1000] [--cycles 7]
(run after building: cmake --build build)."""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from klag_harness import Broker, Exporter, value, wait_until  # noqa: E402


def bytes_received(pid, broker_port):
    """Wire bytes the process has received on its TCP connections to the
    broker (tcp_info bytes_received, from `ss`)."""
    out = subprocess.run(["ss", "-tinpH", "state", "established", f"( dport = :{broker_port} )"],
                         capture_output=True, text=True, check=True).stdout
    total = 0
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if f"pid={pid}," in line and i + 1 < len(lines):
            m = re.search(r"bytes_received:(\d+)", lines[i + 1])
            if m:
                total += int(m.group(1))
    return total


def exporter_config(bootstrap, sampling):
    return f"""
[exporter]
poll_interval = "2s"
cycle_timeout = "30s"
http_port = @HTTP_PORT@
http_host = "127.0.0.1"
[exporter.timestamp_sampling]
enabled = {"true" if sampling else "false"}
fetch_timeout = "20s"
[[clusters]]
name = "bench"
bootstrap_servers = "{bootstrap}"
"""


def first_cycle_wire_bytes(broker, sampling):
    e = Exporter(exporter_config(broker.bootstrap, sampling))
    try:
        wait_until(lambda: value(e.metrics(), "kafka_lag_exporter_cycles_total", cluster_name="bench") >= 1, 120,
                   "first cycle")
        return bytes_received(e.proc.pid, broker.bootstrap.rsplit(":", 1)[1])
    finally:
        e.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--partitions", type=int, default=1000)
    ap.add_argument("--cycles", type=int, default=7)
    ap.add_argument("--value-bytes", type=int, default=100)
    args = ap.parse_args()
    n = args.partitions

    broker = Broker()
    try:
        broker.create_topic("bench-ts", n)
        broker.workload("produce", "--topic", "bench-ts", "--count", "5", "--value-bytes", str(args.value_bytes), timeout=300)
        # Two groups at the same offsets: each timestamp is read once.
        for g in ("bench-a", "bench-b"):
            offsets = []
            for p in range(n):
                offsets += ["--offset", f"bench-ts:{p}:1"]
            broker.workload("commit", "--group", g, *offsets, timeout=300)

        cold = []
        cold_bytes = []
        steady_runs = []
        for _ in range(args.cycles):
            # A fresh exporter per run: its first cycle has a cold cache.
            e = Exporter(exporter_config(broker.bootstrap, True))
            wait_until(lambda: value(e.metrics(), "kafka_lag_exporter_cycles_total", cluster_name="bench") >= 1, 120,
                       "first cycle")
            m = e.metrics()
            samples = value(m, "kafka_lag_exporter_timestamp_samples_total", cluster_name="bench")
            if samples != n:
                raise SystemExit(f"expected {n} samples on the first cycle, got {samples}")
            cold.append(value(m, "kafka_lag_exporter_timestamp_sampling_duration_seconds", cluster_name="bench"))
            cold_bytes.append(value(m, "kafka_lag_exporter_timestamp_fetch_bytes_total", cluster_name="bench") / samples)
            cycle_cold = value(m, "kafka_lag_exporter_scrape_duration_seconds", cluster_name="bench")
            steady = []
            cycles = []
            last = 1
            deadline = time.time() + 60
            while len(steady) < 3 and time.time() < deadline:
                m = e.metrics()
                c = value(m, "kafka_lag_exporter_cycles_total", cluster_name="bench")
                if c > last:
                    last = c
                    steady.append(value(m, "kafka_lag_exporter_timestamp_sampling_duration_seconds", cluster_name="bench"))
                    cycles.append(value(m, "kafka_lag_exporter_scrape_duration_seconds", cluster_name="bench"))
                time.sleep(0.2)
            steady_runs.append(statistics.median(steady))
            hits = value(m, "kafka_lag_exporter_timestamp_cache_hits_total", cluster_name="bench")
            reads = value(m, "kafka_lag_exporter_timestamp_samples_total", cluster_name="bench")
            e.stop()
            print(f"run: cold sampling {cold[-1]*1000:.0f} ms (cycle {cycle_cold*1000:.0f} ms), "
                  f"steady sampling {statistics.median(steady)*1000:.2f} ms (cycle {statistics.median(cycles)*1000:.0f} ms), "
                  f"hit rate after warm-up {hits/(hits+reads-n)*100 if hits+reads-n else 0:.1f}%", file=sys.stderr)
        # Wire cost: bytes received from the broker in the first cycle, with
        # and without sampling; the difference is what sampling fetched.
        wire = [first_cycle_wire_bytes(broker, True) - first_cycle_wire_bytes(broker, False)
                for _ in range(3)]
        print()
        print(f"| time-lag sampling, {n} partitions, {args.cycles} runs (median) | value |")
        print("|---|---|")
        print(f"| sampling time, cold cache (all {n} read from Kafka) | {statistics.median(cold)*1000:.0f} ms |")
        print(f"| sampling time, steady state (served from cache) | {statistics.median(steady_runs)*1000:.2f} ms |")
        print(f"| record bytes per sample (key+value counter, {args.value_bytes}-byte values, 5 records per partition) "
              f"| {statistics.median(cold_bytes):.0f} B |")
        print(f"| wire bytes received per sample (TCP, sampling on minus off, first cycle) "
              f"| {statistics.median(wire)/n:.0f} B |")
        print(f"| cache hit rate in steady state | {hits/(hits+reads-n)*100:.1f}% |")
        print(f"| samples per shared offset (2 groups at each offset) | {reads/n:.2f} |")
    finally:
        broker.purge()


if __name__ == "__main__":
    main()
