"""Shared helpers for the integration tests: a real Kafka broker from the
local harness, the klag-workload tool, the exporter process, scraping and
Kafka's own ConsumerGroupCommand as the reference. Standard library only."""

import gzip
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KAFKA_LOCAL = os.path.join(ROOT, "tools", "kafka", "kafka-local.sh")
EXPORTER = os.environ.get("KLAG_EXPORTER", os.path.join(ROOT, "build", "src", "app", "klag-exporter"))
WORKLOAD = os.environ.get("KLAG_WORKLOAD", os.path.join(ROOT, "build", "tools", "workload", "klag-workload"))


def cycle_line(cluster):
    """The exporter's line that ends each collection cycle of `cluster`
    (src/collect/cycle_report.h), with the groups (cycle number, "ok",
    "partial" or "failed", seconds). "partial": the cycle worked but missed
    some data, and the line goes on with "partial errors: " and the counts;
    it is a warning at most once a minute, else debug like the others."""
    return re.compile(rf"cluster {re.escape(cluster)}: cycle (\d+) (ok|partial|failed) in ([0-9.]+)s")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """One single-node KRaft broker started by tools/kafka/kafka-local.sh."""

    def __init__(self, secure=False, gssapi=None, props=()):
        """props: extra broker properties, "KEY=VALUE" each, passed as
        `--prop KEY=VALUE` to `kafka-local.sh start` (they win over the
        harness's own). secure: also SASL_PLAINTEXT (PLAIN,
        SCRAM-SHA-256/512), SSL, mutual TLS and SASL_SSL listeners, with a
        CA made here (self.tls: ca, client cert and key) and the users of
        tools/kafka/lib/broker.sh; their addresses in self.listeners.
        `bootstrap` stays PLAINTEXT. ACLs are enforced, but nothing is
        denied until a test adds some (acls()).
        gssapi: {"krb5_conf", "keytab", "principal"} of the broker: also a
        SASL_PLAINTEXT listener with GSSAPI only, self.listeners["gssapi"]
        (localhost:PORT)."""
        # KLAG_IT_ROOT (set by scripts/test.sh) groups this run's brokers so
        # cleanup can stop exactly them and leave a running demo alone.
        root = os.environ.get("KLAG_IT_ROOT") or None
        self.state_dir = tempfile.mkdtemp(prefix="klag-it-broker-", dir=root)
        self.listeners = {}
        self.tls = {}
        if secure:
            from tls_ca import make_client_cert, make_test_ca
            tls_dir = os.path.join(self.state_dir, "tls")
            os.makedirs(tls_dir)
            ca, cert, key = make_test_ca(tls_dir)
            client_cert, client_key = make_client_cert(tls_dir)
            with open(os.path.join(tls_dir, "broker.pem"), "w") as out:
                for part in (key, cert):
                    with open(part) as f:
                        out.write(f.read())
            self.tls = {"ca": ca, "client_cert": client_cert, "client_key": client_key}
        if gssapi:
            krb_dir = os.path.join(self.state_dir, "gssapi")
            os.makedirs(krb_dir)
            shutil.copy(gssapi["krb5_conf"], os.path.join(krb_dir, "krb5.conf"))
            shutil.copy(gssapi["keytab"], os.path.join(krb_dir, "kafka.keytab"))
            with open(os.path.join(krb_dir, "principal"), "w") as f:
                f.write(gssapi["principal"] + "\n")
        args = [KAFKA_LOCAL, "start"]
        for p in props:
            args += ["--prop", p]
        res = subprocess.run([*args, self.state_dir], capture_output=True,
                             text=True, env=dict(os.environ, KLAG_WORKLOAD=WORKLOAD))
        if res.returncode != 0:
            raise RuntimeError(f"kafka-local.sh start failed: {res.stderr[-3000:]}")
        self.bootstrap = res.stdout.strip().splitlines()[-1]
        listeners = os.path.join(self.state_dir, "listeners")
        if os.path.exists(listeners):
            with open(listeners) as f:
                self.listeners = dict(line.strip().split("=", 1) for line in f if "=" in line)

    def stop(self):
        subprocess.run([KAFKA_LOCAL, "stop", self.state_dir], check=False, capture_output=True)

    def purge(self):
        self.stop()
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def workload(self, *args, timeout=60):
        res = subprocess.run([WORKLOAD, args[0], "--bootstrap", self.bootstrap, *args[1:]],
                             capture_output=True, text=True, timeout=timeout)
        if res.returncode != 0:
            raise RuntimeError(f"klag-workload {' '.join(args)} failed: {res.stderr}")
        return res.stdout

    def create_topic(self, topic, partitions):
        self.workload("create-topic", "--topic", topic, "--partitions", str(partitions))

    def produce(self, topic, count_per_partition):
        self.workload("produce", "--topic", topic, "--count", str(count_per_partition))

    def commit(self, group, offsets):
        """offsets: list of (topic, partition, offset)."""
        args = ["commit", "--group", group]
        for t, p, o in offsets:
            args += ["--offset", f"{t}:{p}:{o}"]
        self.workload(*args)

    def start_member(self, group, topics, commits=(), client_id=None):
        """A live group member that holds its assignment without consuming."""
        args = [WORKLOAD, "member", "--bootstrap", self.bootstrap, "--group", group, "--topic", ",".join(topics)]
        for t, p, o in commits:
            args += ["--commit", f"{t}:{p}:{o}"]
        if client_id:
            args += ["--client-id", client_id]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        if line.strip() != "ready":
            proc.kill()
            raise RuntimeError(f"member did not get ready: {line!r} {proc.stderr.read()}")
        return proc

    def consumer_groups(self):
        """Kafka's own view: ConsumerGroupCommand --describe --all-groups,
        as {(group, topic, partition): row dict}."""
        res = subprocess.run([KAFKA_LOCAL, "cgc", self.bootstrap, "--describe", "--all-groups"],
                             capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            raise RuntimeError(f"ConsumerGroupCommand failed: {res.stderr}")
        return parse_cgc(res.stdout)

    def acls(self, *args):
        """Kafka's kafka-acls (AclCommand) as the super user admin over
        SASL_PLAINTEXT (a secure broker only), e.g. acls("--add",
        "--allow-principal", "User:viewer", "--operation", "Read", "--topic", "t").
        Returns its stdout."""
        config = os.path.join(self.state_dir, "admin-client.properties")
        if not os.path.exists(config):
            with open(config, "w") as f:
                f.write("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
                        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
                        'username="admin" password="admin-secret";\n')
        res = subprocess.run([KAFKA_LOCAL, "acls", self.listeners["sasl_plaintext"], "--command-config", config, *args],
                             capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            raise RuntimeError(f"AclCommand {' '.join(args)} failed: {res.stderr[-3000:]}")
        return res.stdout


class Cluster(Broker):
    """A multi-node KRaft cluster (every node a combined broker and
    controller) started by `kafka-local.sh start-cluster`: replication
    factor 3 and min.insync.replicas 2 with three nodes, and
    __consumer_offsets spread so every node coordinates some groups.
    `bootstrap` lists every node; node i (1-based) lives in node_dir(i).
    The Broker helpers (workload, commit, consumer_groups...) use all nodes."""

    def __init__(self, nodes=3, props=()):
        root = os.environ.get("KLAG_IT_ROOT") or None
        self.state_dir = tempfile.mkdtemp(prefix="klag-it-cluster-", dir=root)
        self.listeners = {}
        self.tls = {}
        self.nodes = nodes
        args = [KAFKA_LOCAL, "start-cluster", "--nodes", str(nodes)]
        for p in props:
            args += ["--prop", p]
        res = subprocess.run([*args, self.state_dir], capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"kafka-local.sh start-cluster failed: {res.stderr[-3000:]}")
        self.bootstrap = res.stdout.strip().splitlines()[-1]
        self.node_bootstrap = self.bootstrap.split(",")

    def node_dir(self, i):
        return os.path.join(self.state_dir, f"node{i}")

    def node_pid(self, i):
        with open(os.path.join(self.node_dir(i), "broker.pid")) as f:
            return int(f.read().strip())

    def stop_node(self, i):
        """SIGTERM: a controlled shutdown (leaderships and coordinators move
        to the other nodes first)."""
        subprocess.run([KAFKA_LOCAL, "stop", self.node_dir(i)], check=True, capture_output=True, timeout=60)

    def restart_node(self, i):
        res = subprocess.run([KAFKA_LOCAL, "restart", self.node_dir(i)], capture_output=True, text=True, timeout=180)
        if res.returncode != 0:
            raise RuntimeError(f"kafka-local.sh restart node{i} failed: {res.stderr[-3000:]}")

    def kill_node(self, i):
        """SIGKILL: the node vanishes without telling anyone."""
        pid = self.node_pid(i)
        os.killpg(pid, signal.SIGKILL)
        wait_until(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), 20, f"node {i} to die")

    def pause_node(self, i):
        os.killpg(self.node_pid(i), signal.SIGSTOP)

    def resume_node(self, i):
        os.killpg(self.node_pid(i), signal.SIGCONT)

    def tool(self, main_class, *args, timeout=120):
        res = subprocess.run([KAFKA_LOCAL, "tool", main_class, *args], capture_output=True, text=True,
                             timeout=timeout)
        if res.returncode != 0:
            raise RuntimeError(f"{main_class} failed: {res.stderr[-3000:]}")
        return res.stdout

    def coordinators(self):
        """{group: coordinator node id} of every group, from
        ConsumerGroupCommand --describe --state --all-groups."""
        res = subprocess.run([KAFKA_LOCAL, "cgc", self.bootstrap, "--describe", "--state", "--all-groups"],
                             capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            raise RuntimeError(f"ConsumerGroupCommand --state failed: {res.stderr[-3000:]}")
        out = {}
        for line in res.stdout.splitlines():
            m = re.match(r"(\S+)\s+\S+:\d+\s+\((\d+)\)", line)
            if m:
                out[m.group(1)] = int(m.group(2))
        return out

    def stop(self):
        subprocess.run([KAFKA_LOCAL, "stop-cluster", self.state_dir], check=False, capture_output=True)

    def purge(self):
        subprocess.run([KAFKA_LOCAL, "stop-cluster", "--purge", self.state_dir], check=False, capture_output=True)
        shutil.rmtree(self.state_dir, ignore_errors=True)


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def parse_cgc(text):
    rows = {}
    header = None
    for line in text.splitlines():
        cols = line.split()
        if not cols:
            continue
        if cols[0] == "GROUP":
            header = cols
            continue
        if header is None or len(cols) != len(header):
            continue
        row = dict(zip(header, cols))
        if row.get("PARTITION", "-") == "-":
            continue
        rows[(row["GROUP"], row["TOPIC"], int(row["PARTITION"]))] = row
    return rows


def http_get(url, headers=None, timeout=5):
    """(status, body, headers); status 0 when nothing answered."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return 0, b"", {}


def exporter_config(bootstrap=None, cluster="local", poll_interval="1s", exporter_extra="", cluster_extra=""):
    """The exporter TOML the tests share: [exporter] with poll_interval,
    http_port = @HTTP_PORT@ (Exporter fills it in) and http_host 127.0.0.1,
    then exporter_extra (more [exporter] keys, then its sub-tables such as
    [exporter.timestamp_sampling]). With a bootstrap, one [[clusters]] entry
    `cluster` at it, then cluster_extra (more keys of that cluster, its
    sub-tables, further [[clusters]]). Without one, only the [exporter] part,
    for callers that append their own [[clusters]]."""
    text = f"""
[exporter]
poll_interval = "{poll_interval}"
http_port = @HTTP_PORT@
http_host = "127.0.0.1"
{exporter_extra.strip()}
"""
    if bootstrap is not None:
        text += f"""
[[clusters]]
name = "{cluster}"
bootstrap_servers = "{bootstrap}"
{cluster_extra.strip()}
"""
    return text


class Exporter:
    """The klag-exporter binary with a generated config file."""

    def __init__(self, config_text, extra_args=(), env=None, wait_for_health=True):
        """wait_for_health=False: the caller waits in its own way (HTTPS,
        credentials)."""
        self.port = free_port()
        # Under the run root (scripts/test.sh removes it), like the brokers.
        self.dir = tempfile.mkdtemp(prefix="klag-it-exporter-", dir=os.environ.get("KLAG_IT_ROOT") or None)
        self.config_path = os.path.join(self.dir, "config.toml")
        with open(self.config_path, "w") as f:
            f.write(config_text.replace("@HTTP_PORT@", str(self.port)))
        self.log_path = os.path.join(self.dir, "exporter.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([EXPORTER, "-c", self.config_path, *extra_args],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, **(env or {})))
        self.base = f"http://127.0.0.1:{self.port}"
        if wait_for_health:
            wait_until(lambda: self.get("/health")[0] == 200, 20, "exporter /health")

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def get(self, path, headers=None):
        return http_get(self.base + path, headers)

    def post(self, path):
        req = urllib.request.Request(self.base + path, data=b"", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def kill(self):
        """SIGKILL, as a node loss would: no clean-up of any kind."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def metrics_text(self):
        status, body, _ = self.get("/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}")
        return body.decode()

    def metrics(self):
        return parse_metrics(self.metrics_text())

    def stop(self):
        """SIGTERM, and insist on a clean exit within 2 s plus slack: a
        sanitizer report or a hang fails the test that owns this exporter."""
        if self.log.closed:
            return  # killed earlier
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("exporter did not stop within 5 s of SIGTERM")
        self.log.close()
        log = self.log_text()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "WARNING: ThreadSanitizer"):
            if marker in log:
                raise AssertionError(f"sanitizer report in exporter log:\n{log[-4000:]}")
        if self.proc.returncode != 0:
            raise AssertionError(f"exporter exited with {self.proc.returncode}:\n{log[-4000:]}")

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()


_SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Exposition text -> {(name, ((label, value), ...sorted)): float}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SERIES.match(line)
        if not m:
            raise ValueError(f"unparseable exposition line: {line!r}")
        labels = tuple(sorted(_LABEL.findall(m.group(3) or "")))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def select(metrics, name, **labels):
    """Series of `name` whose labels include `labels`: {labels dict as tuple: value}."""
    res = {}
    for (n, lbls), v in metrics.items():
        if n != name:
            continue
        d = dict(lbls)
        if all(d.get(k) == str(val) for k, val in labels.items()):
            res[lbls] = v
    return res


def value(metrics, name, **labels):
    found = select(metrics, name, **labels)
    if len(found) != 1:
        raise AssertionError(f"expected exactly one {name}{labels}, found {len(found)}: {found}")
    return next(iter(found.values()))


def wait_until(predicate, timeout, what, interval=0.2):
    deadline = time.time() + timeout
    last_exc = None
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last_exc = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f": {last_exc}" if last_exc else ""))


def gunzip(body):
    return gzip.decompress(body).decode()


class KafkaTestCase(unittest.TestCase):
    """A test class that owns a broker, an exporter and helper processes in
    cls.broker, cls.exporter and cls.procs. Subclasses call
    super().setUpClass() first; everything is stopped afterwards even when
    setUpClass fails half-way, so nothing leaks into the next test."""

    @classmethod
    def setUpClass(cls):
        cls.broker = None
        cls.exporter = None
        cls.procs = []
        cls.addClassCleanup(cls._stop_everything)

    @classmethod
    def _stop_everything(cls):
        for p in cls.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in cls.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        if cls.exporter is not None:
            cls.exporter.stop()
        if cls.broker is not None:
            cls.broker.purge()
