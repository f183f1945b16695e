#!/usr/bin/env python3
"""Scale benchmark: builds an estate of a given size on a local Kafka broker
(tools/kafka/kafka-local.sh) with `klag-workload scale`, runs the exporter
on it and prints one table of figures (docs/benchmarks.md).

Usage (after cmake --build build):
  python3 bench/scale_bench.py --size small|medium|large [--cycles 5]
  python3 bench/scale_bench.py --topics T --partitions P --groups G --topics-per-group K
  --smoke: small size, fewer cycles, asserts the figures are sane (CI).

Figures, each a median over --cycles cycles after the first:
- cycle wall time with and without time-lag sampling, and its CPU time;
- RSS after the cycles (steady) and the peak (VmHWM);
- series and /metrics bytes, plain and gzip;
- /metrics latency p50/p99 under 16 concurrent clients (wrk, gzip) while
  collection runs, back to back and paced (bench/paced.lua);
- time from process start to /ready (median over --ready-runs starts);
- broker requests, bytes and Fetch requests per cycle, and the requests per
  cycle of each API a cycle uses, from the broker's own JMX counters (only
  the exporter talks to the broker meanwhile).
"""

import argparse
import gzip
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from klag_harness import EXPORTER, KAFKA_LOCAL, WORKLOAD, Broker, cycle_line, free_port, http_get  # noqa: E402

SIZES = {
    # partitions = topics x partitions per topic; one topic per group.
    "small": dict(topics=10, partitions=10, groups=20, topics_per_group=1, poll=3, heap="512m"),
    "medium": dict(topics=100, partitions=20, groups=400, topics_per_group=1, poll=4, heap="1g"),
    # The large is 2,000 x 10 = 20,000 partitions; one broker here
    # cannot hold that: it needs an open file per partition and the process
    # limit is 20,000 (ulimit -Hn, not raisable without CAP_SYS_RESOURCE).
    # 1,500 x 10 is the largest round size that fits.
    "large": dict(topics=1500, partitions=10, groups=4000, topics_per_group=1, poll=10, heap="3g"),
}
# The APIs a cycle uses, counted one by one: per group FindCoordinator,
# OffsetFetch and (groups that may have members) DescribeGroups.
PER_REQUEST = ("FindCoordinator", "DescribeGroups", "OffsetFetch", "ListGroups", "Metadata", "ListOffsets", "Fetch")
CYCLE_LINE = cycle_line("bench")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


class Jmx:
    """The broker's own counters over JMX, read with Kafka's JmxTool."""

    def __init__(self, port):
        self.url = f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{port}/jmxrmi"

    def _read(self, object_name, attributes):
        out = subprocess.run([KAFKA_LOCAL, "tool", "org.apache.kafka.tools.JmxTool", "--jmx-url", self.url,
                              "--object-name", object_name, "--attributes", attributes, "--one-time", "true",
                              "--report-format", "properties"], capture_output=True, text=True, timeout=120)
        # Lines "<object name>:<attribute>=<value>"; an object that does
        # not exist yet (no Fetch served so far) prints nothing.
        totals = dict.fromkeys(attributes.split(","), 0.0)
        for line in out.stdout.splitlines():
            key, _, val = line.rpartition("=")
            attr = key.rpartition(":")[2]
            if attr in totals:
                totals[attr] += float(val)
        return totals

    def _per_request(self):
        """Requests served so far by API ({"Fetch": n, "FindCoordinator": n, ...})."""
        out = subprocess.run([KAFKA_LOCAL, "tool", "org.apache.kafka.tools.JmxTool", "--jmx-url", self.url,
                              "--object-name", "kafka.network:type=RequestMetrics,name=RequestsPerSec,request=*,version=*",
                              "--attributes", "Count", "--one-time", "true", "--report-format", "properties"],
                             capture_output=True, text=True, timeout=120)
        counts = {}
        for line in out.stdout.splitlines():
            m = re.search(r"request=([A-Za-z]+),.*:Count=([0-9.E]+)$", line)
            if m:
                counts[m.group(1)] = counts.get(m.group(1), 0.0) + float(m.group(2))
        return counts

    def snapshot(self):
        net = self._read("kafka.server:type=socket-server-metrics,listener=PLAINTEXT,networkProcessor=*",
                         "request-total,incoming-byte-total,outgoing-byte-total")
        per_request = self._per_request()
        snap = {"requests": net["request-total"], "in_bytes": net["incoming-byte-total"],
                "out_bytes": net["outgoing-byte-total"], "fetches": per_request.get("Fetch", 0.0)}
        for api in PER_REQUEST:
            snap["api_" + api] = per_request.get(api, 0.0)
        return snap


class Run:
    """One exporter process on the estate; follows its per-cycle log lines."""

    def __init__(self, bootstrap, poll, sampling):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="klag-bench-")
        cfg = os.path.join(self.dir, "config.toml")
        with open(cfg, "w") as f:
            f.write(f"""
[exporter]
poll_interval = "{poll}s"
http_port = {self.port}
http_host = "127.0.0.1"
[exporter.timestamp_sampling]
enabled = {"true" if sampling else "false"}
[[clusters]]
name = "bench"
bootstrap_servers = "{bootstrap}"
""")
        self.log_path = os.path.join(self.dir, "exporter.log")
        self.log = open(self.log_path, "w")
        self.base = f"http://127.0.0.1:{self.port}"
        start = time.monotonic()
        self.proc = subprocess.Popen([EXPORTER, "-c", cfg, "-l", "debug"], stdout=self.log, stderr=subprocess.STDOUT)
        while http_get(self.base + "/ready")[0] != 200:
            if self.proc.poll() is not None or time.monotonic() - start > 600:
                raise RuntimeError(f"exporter not ready; log in {self.log_path}")
            time.sleep(0.005)
        self.ready_seconds = time.monotonic() - start
        self.seen = 0  # bytes of the log already read
        self.cycles = []  # (number, "ok" / "partial" / "failed", seconds, cpu at the line)

    def next_cycle(self, timeout=900):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path) as f:
                f.seek(self.seen)
                chunk = f.read()
            lines = chunk.split("\n")
            for i, line in enumerate(lines[:-1]):
                m = CYCLE_LINE.search(line)
                if m:
                    self.seen += len("\n".join(lines[:i + 1])) + 1
                    cycle = (int(m.group(1)), m.group(2), float(m.group(3)), cpu_seconds(self.proc.pid))
                    self.cycles.append(cycle)
                    return cycle
            self.seen += len(chunk) - len(lines[-1])
            time.sleep(0.02)
        raise RuntimeError("no cycle line within the timeout")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        self.log.close()


PACED_LUA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "paced.lua")
PACE_MS = 50


def wrk_latency(url, seconds, pace_ms=0):
    """p50 and p99 in ms of GET url with 16 connections, gzip accepted:
    back to back (saturating), or each connection pausing pace_ms between
    its requests (a fixed rate: 16 clients x one scrape per pace_ms)."""
    script = ["-s", PACED_LUA] if pace_ms else []
    env = dict(os.environ, KLAG_WRK_PAUSE_MS=str(pace_ms))
    out = subprocess.run(["wrk", "-t", "2", "-c", "16", "-d", f"{seconds}s", "--latency", "--timeout", "10s",
                          "-H", "Accept-Encoding: gzip", *script, url], capture_output=True, text=True,
                         timeout=seconds + 60, env=env)
    def pct(p):
        m = re.search(rf"^\s*{p}%\s+([0-9.]+)(us|ms|s)\s*$", out.stdout, re.M)
        if not m:
            raise RuntimeError(f"wrk output without {p}%:\n{out.stdout}{out.stderr}")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    requests = re.search(r"(\d+) requests in", out.stdout)
    return pct(50), pct(99), int(requests.group(1)) if requests else 0


def ready_median(bootstrap, poll, sampling, first, runs):
    """Median start-to-ready over `runs` starts, `first` being the first."""
    times = [first]
    for _ in range(runs - 1):
        r = Run(bootstrap, poll, sampling)
        times.append(r.ready_seconds)
        r.stop()
    return statistics.median(times), times


def measure(bootstrap, jmx, poll, sampling, cycles, load_seconds, ready_runs):
    r = Run(bootstrap, poll, sampling)
    try:
        r.next_cycle()  # the first cycle: cold caches, connections opening
        before = jmx.snapshot() if jmx else None
        first = r.cycles[-1]
        for _ in range(cycles):
            r.next_cycle()
        after = jmx.snapshot() if jmx else None
        body = [c for c in r.cycles if c[0] > first[0]]
        wall = [c[2] for c in body]
        cpu = [b[3] - a[3] for a, b in zip([first] + body[:-1], body)]
        res = {"ready_s": r.ready_seconds, "cycle_s": statistics.median(wall), "cpu_s": statistics.median(cpu),
               "failed": sum(1 for c in body if c[1] == "failed"),
               "partial": sum(1 for c in body if c[1] == "partial"), "rss": proc_status(r.proc.pid, "VmRSS"),
               "hwm": proc_status(r.proc.pid, "VmHWM")}
        if jmx:
            for k in before:
                res["broker_" + k] = (after[k] - before[k]) / cycles
        _, plain, _ = http_get(r.base + "/metrics", timeout=60)
        _, gz, _ = http_get(r.base + "/metrics", {"Accept-Encoding": "gzip"}, timeout=60)
        res["series"] = sum(1 for line in plain.split(b"\n") if line and not line.startswith(b"#"))
        res["bytes"] = len(plain)
        res["gzip_bytes"] = len(gz)
        if gzip.decompress(gz) != plain and res["failed"] == 0:
            log("note: a new cycle landed between the plain and the gzip scrape")
        if load_seconds:
            res["p50_ms"], res["p99_ms"], res["scrapes"] = wrk_latency(r.base + "/metrics", load_seconds)
            res["paced_p50_ms"], res["paced_p99_ms"], res["paced_scrapes"] = wrk_latency(
                r.base + "/metrics", load_seconds, PACE_MS)
            res["hwm"] = proc_status(r.proc.pid, "VmHWM")
    finally:
        r.stop()
    res["ready_s"], res["ready_runs"] = ready_median(bootstrap, poll, sampling, res["ready_s"], ready_runs)
    return res


def fmt_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=SIZES, default="small")
    ap.add_argument("--topics", type=int)
    ap.add_argument("--partitions", type=int, help="partitions per topic")
    ap.add_argument("--groups", type=int)
    ap.add_argument("--topics-per-group", type=int)
    ap.add_argument("--poll", type=int, help="poll_interval in seconds (default: the size's)")
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--load-seconds", type=int, default=10)
    ap.add_argument("--ready-runs", type=int, default=5, help="exporter starts for the start-to-ready median")
    ap.add_argument("--no-jmx", action="store_true", help="skip the broker-side request counts")
    ap.add_argument("--smoke", action="store_true", help="CI: small size, 2 cycles, assert sane figures")
    args = ap.parse_args()
    size = dict(SIZES["small" if args.smoke else args.size])
    for k in ("topics", "partitions", "groups", "topics_per_group", "poll"):
        if getattr(args, k) is not None:
            size[k] = getattr(args, k)
    cycles = 2 if args.smoke else args.cycles
    load = 3 if args.smoke else args.load_seconds

    jmx_port = free_port()
    os.environ["KLAG_KAFKA_JAVA_OPTS"] = (
        f"-Xms{size['heap']} -Xmx{size['heap']} -XX:+UseSerialGC -Xshare:auto "
        f"-Dcom.sun.management.jmxremote.port={jmx_port} -Dcom.sun.management.jmxremote.rmi.port={jmx_port} "
        "-Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false "
        "-Djava.rmi.server.hostname=127.0.0.1")
    t0 = time.monotonic()
    broker = Broker()
    try:
        log(f"broker up at {broker.bootstrap} in {time.monotonic() - t0:.1f}s; building the estate")
        t0 = time.monotonic()
        subprocess.run([WORKLOAD, "scale", "--bootstrap", broker.bootstrap, "--topics", str(size["topics"]),
                        "--partitions", str(size["partitions"]), "--groups", str(size["groups"]),
                        "--topics-per-group", str(size["topics_per_group"])], check=True, timeout=3600,
                       stdout=sys.stderr)
        setup = time.monotonic() - t0
        jmx = None if args.no_jmx else Jmx(jmx_port)
        results = {}
        for sampling in (True, False):
            log(f"measuring with sampling {'on' if sampling else 'off'}")
            results[sampling] = measure(broker.bootstrap, jmx, size["poll"], sampling, cycles,
                                        load if sampling else 0, 2 if args.smoke else args.ready_runs)
    finally:
        broker.purge()

    on, off = results[True], results[False]
    partitions = size["topics"] * size["partitions"]
    gp = size["groups"] * size["topics_per_group"] * size["partitions"]
    rows = [
        ("estate", f"{size['topics']} topics, {partitions} partitions, {size['groups']} groups, "
                   f"{gp} group partitions (setup {setup:.0f} s)"),
        ("cycle time, sampling on / off (median)", f"{on['cycle_s'] * 1000:.0f} ms / {off['cycle_s'] * 1000:.0f} ms"),
        ("exporter CPU per cycle, sampling on / off", f"{on['cpu_s'] * 1000:.0f} ms / {off['cpu_s'] * 1000:.0f} ms"),
        ("CPU share of the cycle (rest: waiting on the broker)", f"{on['cpu_s'] / max(on['cycle_s'], 1e-9) * 100:.0f} %"),
        ("RSS steady / peak (sampling on, peak includes the scrape load)",
         f"{fmt_bytes(on['rss'])} / {fmt_bytes(on['hwm'])}"),
        ("series", f"{on['series']}"),
        ("/metrics size, plain / gzip", f"{fmt_bytes(on['bytes'])} / {fmt_bytes(on['gzip_bytes'])}"),
        ("/metrics latency p50 / p99, 16 clients back to back, gzip, during collection",
         f"{on['p50_ms']:.2f} ms / {on['p99_ms']:.2f} ms ({on['scrapes']} scrapes)"),
        (f"/metrics latency p50 / p99, 16 clients each pausing {PACE_MS} ms, gzip, during collection",
         f"{on['paced_p50_ms']:.2f} ms / {on['paced_p99_ms']:.2f} ms ({on['paced_scrapes']} scrapes)"),
        (f"start to /ready (first cycle done), sampling on / off (median of {len(on['ready_runs'])} starts)",
         f"{on['ready_s'] * 1000:.0f} ms / {off['ready_s'] * 1000:.0f} ms "
         f"(on: {', '.join(f'{t * 1000:.0f}' for t in on['ready_runs'])}; "
         f"off: {', '.join(f'{t * 1000:.0f}' for t in off['ready_runs'])})"),
    ]
    if "broker_requests" in on:
        rows += [
            ("broker requests per cycle, sampling on / off",
             f"{on['broker_requests']:.0f} / {off['broker_requests']:.0f}"),
            ("broker bytes in + out per cycle, sampling on / off",
             f"{fmt_bytes(on['broker_in_bytes'] + on['broker_out_bytes'])} / "
             f"{fmt_bytes(off['broker_in_bytes'] + off['broker_out_bytes'])}"),
            ("Fetch requests per cycle (one broker), sampling on", f"{on['broker_fetches']:.1f}"),
            ("requests per cycle by API, sampling off",
             ", ".join(f"{api} {off['broker_api_' + api]:.0f}" for api in PER_REQUEST if api != "Fetch")),
        ]
    if on["failed"] or off["failed"]:
        rows.append(("failed cycles", f"{on['failed']} / {off['failed']}"))
    if on["partial"] or off["partial"]:
        rows.append(("cycles with partial errors (see the exporter log)", f"{on['partial']} / {off['partial']}"))
    width = max(len(r[0]) for r in rows)
    print(f"| figure ({'smoke' if args.smoke else args.size}, median of {cycles} cycles) | value |")
    print("|---|---|")
    for k, v in rows:
        print(f"| {k.ljust(width)} | {v} |")

    if args.smoke:
        # Sane, non-zero figures: the benchmark code works. Not a timing test.
        problems = []
        if on["failed"] or off["failed"]:
            problems.append("failed cycles")
        if not (0 < on["cycle_s"] < 60 and 0 < off["cycle_s"] < 60):
            problems.append("cycle time")
        if on["series"] < gp or on["bytes"] <= on["gzip_bytes"] or on["rss"] <= 0:
            problems.append("series or sizes")
        if (on["scrapes"] <= 0 or not 0 < on["p50_ms"] <= on["p99_ms"] or on["paced_scrapes"] <= 0
                or not 0 < on["paced_p50_ms"] <= on["paced_p99_ms"]):
            problems.append("latency")
        if "broker_requests" in on and not on["broker_requests"] > 0:
            problems.append("broker requests")
        if problems:
            sys.exit("smoke: insane figures: " + ", ".join(problems))


if __name__ == "__main__":
    main()
