"""Kerberos (SASL/GSSAPI) against a real broker and a real MIT KDC.

A throwaway KDC (Debian's krb5-kdc, run unprivileged by
tools/kafka/krb5-local.sh) holds the realm KLAG.TEST with the broker's
principal kafka/localhost and the exporter's principal klag, each with a
keytab. The test starts its own single-node KRaft broker from the cached
jars (kafka-local.sh has no GSSAPI listener): a PLAINTEXT listener for the
workload and Kafka's ConsumerGroupCommand, and a SASL_PLAINTEXT listener
with GSSAPI only, advertised as localhost (the host name is part of the
broker's principal). The exporter gets only that listener, with
consumer_properties as a user would write them, and librdkafka's default
sasl.kerberos.kinit.cmd gets its ticket from the keytab.

Checked: the lag equals ConsumerGroupCommand's, time lag is there, the KDC
issued klag a ticket for kafka/localhost, and kinit's ticket is in the
exporter's credential cache. Also: tickets refreshed every second by a
custom sasl.kerberos.kinit.cmd; no kinit at all, with MIT's client keytab
(KRB5_CLIENT_KTNAME) and the refresh off; and the three failures users
meet, each with its message: a bootstrap address that is not the host name
in the broker's principal (here 127.0.0.1), a principal missing from the
keytab, and no Cyrus GSSAPI plugin (SASL_PATH pointed at an empty dir).
Each exporter runs in its own process: the Kerberos credential cache
(KRB5CCNAME) is per process, shared by all its clusters and handles.

Works with librdkafka 2.0.2 (Debian 12) against Kafka 3.9.1 and 4.4.0,
provided Cyrus SASL's GSSAPI plugin is installed (libsasl2-modules-gssapi-mit)
and kinit (krb5-user). Without the plugin every connection fails with
"Cyrus/libsasl2 is missing a GSSAPI module" and "SASL(-4): no mechanism
available: No worthy mechs found" (docs/security.md); the prerequisites are
checked first and reported as an error, never skipped."""

import base64
import ctypes
import fcntl
import glob
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import unittest

from klag_harness import KAFKA_LOCAL, ROOT, Broker, Exporter, KafkaTestCase, select, value, wait_until

KRB5_LOCAL = os.path.join(ROOT, "tools", "kafka", "krb5-local.sh")
FREE_PORTS = os.path.join(ROOT, "tools", "kafka", "free_ports.py")
METADATA_PROBE = os.path.join(ROOT, "tools", "kafka", "metadata_probe.py")
CACHE_DIR = os.environ.get("KLAG_CACHE_DIR") or os.path.expanduser("~/.cache/klag-exporter")
REALM = "KLAG.TEST"
BROKER_PRINCIPAL = f"kafka/localhost@{REALM}"
CLIENT_PRINCIPAL = f"klag@{REALM}"
# Which Debian package provides what this test needs.
TOOLS = {"krb5kdc": "krb5-kdc", "kdb5_util": "krb5-kdc", "kadmin.local": "krb5-admin-server",
         "kinit": "krb5-user", "klist": "krb5-user", "java": "openjdk-17-jre-headless"}
JAVA_OPTS = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Xlog:disable",
             "-Xlog:all=warning:stderr"]


def librdkafka_features():
    """builtin.features of the librdkafka the exporter links (librdkafka.so.1)."""
    rk = ctypes.CDLL("librdkafka.so.1")
    rk.rd_kafka_conf_new.restype = ctypes.c_void_p
    rk.rd_kafka_conf_get.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                     ctypes.POINTER(ctypes.c_size_t)]
    rk.rd_kafka_conf_destroy.argtypes = [ctypes.c_void_p]
    conf = rk.rd_kafka_conf_new()
    buf = ctypes.create_string_buffer(1024)
    size = ctypes.c_size_t(len(buf))
    rc = rk.rd_kafka_conf_get(conf, b"builtin.features", buf, ctypes.byref(size))
    rk.rd_kafka_conf_destroy(conf)
    if rc != 0:
        raise RuntimeError("rd_kafka_conf_get(builtin.features) failed")
    return buf.value.decode().split(",")


def cyrus_gssapi_plugins():
    return glob.glob("/usr/lib/*/sasl2/libgssapiv2.so*") + glob.glob("/usr/lib/sasl2/libgssapiv2.so*")


def missing_prerequisites():
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    missing = [f"{tool} (Debian package {pkg})" for tool, pkg in TOOLS.items()
               if shutil.which(tool, path=path) is None]
    if not cyrus_gssapi_plugins():
        missing.append("Cyrus SASL's GSSAPI plugin libgssapiv2.so (Debian package libsasl2-modules-gssapi-mit); "
                       "without it librdkafka logs 'Cyrus/libsasl2 is missing a GSSAPI module'")
    return missing


def new_cluster_id():
    while True:
        cid = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


class Registry:
    """kafka-local.sh's registry of brokers ($KLAG_CACHE_DIR/running): ports
    chosen under its lock skip those of every registered broker, and a
    registered broker is stopped by `kafka-local.sh stop-all --under
    $KLAG_IT_ROOT` (scripts/test.sh) if this test dies before its clean-up."""

    def __init__(self):
        self.dir = os.path.join(CACHE_DIR, "running")
        os.makedirs(self.dir, exist_ok=True)

    def entry(self, state_dir):
        return os.path.join(self.dir, hashlib.sha1(state_dir.encode()).hexdigest()[:16])

    def reserved_ports(self):
        ports = []
        for path in glob.glob(os.path.join(self.dir, "*")):
            try:
                with open(path) as f:
                    kv = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
            except OSError:
                continue
            alive = kv.get("pid", "").isdigit() and os.path.exists(f"/proc/{kv['pid']}")
            if os.path.isdir(kv.get("state_dir", "")) or alive:
                ports += [p for p in kv.get("ports", "").split(",") if p.isdigit()]
        return ports

    def allocate(self, state_dir, count):
        with open(os.path.join(self.dir, ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            res = subprocess.run(["python3", FREE_PORTS, str(count), "--exclude", *self.reserved_ports()],
                                 capture_output=True, text=True, check=True)
            ports = [int(p) for p in res.stdout.split()]
            self.register(state_dir, "", ports)
            return ports

    def register(self, state_dir, pid, ports):
        entry = self.entry(state_dir)
        with open(entry + ".tmp", "w") as f:
            f.write(f"state_dir={state_dir}\npid={pid}\nports={','.join(map(str, ports))}\n")
        os.replace(entry + ".tmp", entry)

    def unregister(self, state_dir):
        try:
            os.remove(self.entry(state_dir))
        except FileNotFoundError:
            pass


class GssapiBroker(Broker):
    """A single KRaft node with a PLAINTEXT listener (bootstrap: workload,
    ConsumerGroupCommand) and a SASL_PLAINTEXT listener with GSSAPI only,
    advertised as localhost:PORT (self.listeners["gssapi"]). The harness's
    Broker methods (workload, produce, commit, consumer_groups) work as is."""

    def __init__(self, state_dir, kdc_dir):
        os.makedirs(state_dir, exist_ok=True)
        self.state_dir = os.path.realpath(state_dir)
        self.tls = {}
        self.proc = None
        self.registry = Registry()
        libs = subprocess.run([KAFKA_LOCAL, "fetch"], capture_output=True, text=True, check=True).stdout.strip()
        port, ctrl, gssapi = self.registry.allocate(self.state_dir, 3)
        self.ports = (port, ctrl, gssapi)
        self.bootstrap = f"127.0.0.1:{port}"
        self.listeners = {"gssapi": f"localhost:{gssapi}"}
        props = os.path.join(self.state_dir, "server.properties")
        self.log_path = os.path.join(self.state_dir, "broker.log")
        keytab = os.path.join(kdc_dir, "kafka_localhost.keytab")
        with open(props, "w") as f:
            f.write(f"""# Written by tests/integration/test_kerberos.py
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{ctrl}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs={self.state_dir}/data
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{ctrl},GSSAPI://127.0.0.1:{gssapi}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},GSSAPI://localhost:{gssapi}
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,GSSAPI:SASL_PLAINTEXT
sasl.enabled.mechanisms=GSSAPI
sasl.kerberos.service.name=kafka
listener.name.gssapi.gssapi.sasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required \
useKeyTab=true storeKey=true keyTab="{keytab}" principal="{BROKER_PRINCIPAL}";
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
num.partitions=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
""")
        classpath = os.path.join(libs, "*")
        res = subprocess.run(["java", *JAVA_OPTS, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath,
                              "kafka.tools.StorageTool", "format", "-t", new_cluster_id(), "-c", props],
                             capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            self.registry.unregister(self.state_dir)
            raise RuntimeError(f"formatting failed: {res.stdout[-2000:]}{res.stderr[-2000:]}")
        with open(self.log_path, "w") as log:
            # Its own session: stop() signals the whole process group, and
            # kafka-local.sh's stop-all finds it by pid and server.properties.
            self.proc = subprocess.Popen(
                ["java", "-Xms256m", "-Xmx512m", *JAVA_OPTS,
                 f"-Djava.security.krb5.conf={os.path.join(kdc_dir, 'krb5.conf')}",
                 "-Dorg.slf4j.simpleLogger.showDateTime=true",
                 "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                 "-cp", classpath, "kafka.Kafka", props],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        with open(os.path.join(self.state_dir, "broker.pid"), "w") as f:
            f.write(f"{self.proc.pid}\n")
        self.registry.register(self.state_dir, self.proc.pid, self.ports)
        ready = subprocess.run(["python3", METADATA_PROBE, self.bootstrap, "--wait", "90", "--pid",
                                str(self.proc.pid)], capture_output=True, text=True)
        if ready.returncode != 0:
            tail = self.log_text()[-4000:]
            self.stop()
            raise RuntimeError(f"the GSSAPI broker (Kafka {self.version()}) did not get ready:\n{tail}")

    @staticmethod
    def version():
        return os.environ.get("KAFKA_VERSION", "4.4.0")

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        self.registry.unregister(self.state_dir)

    def purge(self):
        self.stop()
        shutil.rmtree(self.state_dir, ignore_errors=True)


def kerberos_cluster(name, bootstrap, keytab=None, principal=CLIENT_PRINCIPAL, **props):
    """A cluster as a user writes it: GSSAPI over SASL_PLAINTEXT; with a
    keytab, librdkafka's default sasl.kerberos.kinit.cmd (kinit with it)."""
    settings = {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "GSSAPI",
                "sasl.kerberos.service.name": "kafka"}
    if keytab:
        settings.update({"sasl.kerberos.principal": principal, "sasl.kerberos.keytab": keytab})
    settings.update({k.replace("_", "."): v for k, v in props.items()})
    lines = [f'[[clusters]]\nname = "{name}"\nbootstrap_servers = "{bootstrap}"\ngroup_whitelist = ["krb-.*"]',
             "[clusters.consumer_properties]"]
    # A TOML literal string for values with double quotes (kinit commands).
    lines += [f"\"{k}\" = '{v}'" if '"' in v else f'"{k}" = "{v}"' for k, v in settings.items()]
    return "\n" + "\n".join(lines) + "\n"


EXPORTER_HEAD = """
[exporter]
poll_interval = "1s"
http_port = @HTTP_PORT@
http_host = "127.0.0.1"
"""


class KerberosTest(KafkaTestCase):
    @classmethod
    def setUpClass(cls):
        missing = missing_prerequisites()
        if missing:
            raise AssertionError("Kerberos test prerequisites missing: " + "; ".join(missing))
        cls.dir = tempfile.mkdtemp(prefix="klag-it-kerberos-", dir=os.environ.get("KLAG_IT_ROOT") or None)
        # Registered first, so it runs last: after the broker (inside it) stopped.
        cls.addClassCleanup(shutil.rmtree, cls.dir, ignore_errors=True)
        super().setUpClass()
        cls.kdc_dir = os.path.join(cls.dir, "kdc")
        cls.addClassCleanup(subprocess.run, [KRB5_LOCAL, "stop", cls.kdc_dir], capture_output=True)
        res = subprocess.run([KRB5_LOCAL, "start", cls.kdc_dir, "kafka/localhost", "klag"],
                             capture_output=True, text=True, timeout=60)
        if res.returncode != 0:
            raise RuntimeError(f"krb5-local.sh start failed: {res.stderr[-3000:]}")
        cls.krb5_conf = os.path.join(cls.kdc_dir, "krb5.conf")
        cls.keytab = os.path.join(cls.kdc_dir, "klag.keytab")

        b = cls.broker = GssapiBroker(os.path.join(cls.dir, "broker"), cls.kdc_dir)
        # Data and a group with lag, made as admin through PLAINTEXT.
        b.create_topic("krb-topic", 2)
        b.produce("krb-topic", 30)
        b.commit("krb-group", [("krb-topic", 0, 10), ("krb-topic", 1, 25)])

        gssapi = b.listeners["gssapi"]
        port = gssapi.rsplit(":", 1)[1]
        cls.ccache = os.path.join(cls.dir, "exporter.ccache")
        cls.exporter = Exporter(EXPORTER_HEAD + kerberos_cluster("kerberos", gssapi, cls.keytab),
                                env=cls.krb5_env(cls.ccache))
        # The two common mistakes, each in its own process: one credential
        # cache per process (KRB5CCNAME), shared by its clusters' kinit.
        cls.by_ip = Exporter(EXPORTER_HEAD + kerberos_cluster("by-ip", f"127.0.0.1:{port}", cls.keytab),
                             env=cls.krb5_env(os.path.join(cls.dir, "by-ip.ccache")))
        cls.addClassCleanup(cls.by_ip.stop)
        cls.wrong_principal = Exporter(
            EXPORTER_HEAD + kerberos_cluster("wrong-principal", gssapi, cls.keytab, principal=f"nobody@{REALM}"),
            env=cls.krb5_env(os.path.join(cls.dir, "wrong-principal.ccache")))
        cls.addClassCleanup(cls.wrong_principal.stop)
        # Without kinit: MIT's client keytab (KRB5_CLIENT_KTNAME), librdkafka's
        # ticket refresh switched off, tickets kept in memory (no file written:
        # fits a read-only root filesystem).
        cls.client_keytab = Exporter(
            EXPORTER_HEAD + kerberos_cluster("client-keytab", gssapi,
                                             sasl_kerberos_min_time_before_relogin="0"),
            env=dict(cls.krb5_env(None), KRB5CCNAME="MEMORY:klag", KRB5_CLIENT_KTNAME=f"FILE:{cls.keytab}",
                     PATH="/nonexistent"))
        cls.addClassCleanup(cls.client_keytab.stop)
        # Ticket refresh: a kinit command of our own (librdkafka's default plus
        # a marker line) every second instead of every minute.
        cls.kinit_marks = os.path.join(cls.dir, "kinit-runs")
        kinit_cmd = ('kinit -t "%{sasl.kerberos.keytab}" -k %{sasl.kerberos.principal} && '
                     f'date +%s.%N >>"{cls.kinit_marks}"')
        cls.refresh = Exporter(
            EXPORTER_HEAD + kerberos_cluster("refresh", gssapi, cls.keytab, sasl_kerberos_kinit_cmd=kinit_cmd,
                                             sasl_kerberos_min_time_before_relogin="1000"),
            env=cls.krb5_env(os.path.join(cls.dir, "refresh.ccache")))
        cls.addClassCleanup(cls.refresh.stop)
        # What a machine without libsasl2-modules-gssapi-mit gives: Cyrus SASL
        # looks for plugins in SASL_PATH, here an empty directory.
        no_plugins = os.path.join(cls.dir, "no-sasl-plugins")
        os.makedirs(no_plugins)
        cls.no_plugin = Exporter(EXPORTER_HEAD + kerberos_cluster("no-gssapi-plugin", gssapi, cls.keytab),
                                 env=dict(cls.krb5_env(os.path.join(cls.dir, "no-plugin.ccache")),
                                          SASL_PATH=no_plugins))
        cls.addClassCleanup(cls.no_plugin.stop)

        wait_until(lambda: value(cls.exporter.metrics(), "kafka_lag_exporter_up", cluster_name="kerberos") == 1,
                   60, "the Kerberos cluster up")
        cls.reference = b.consumer_groups()

    @staticmethod
    def krb5_env(ccache):
        env = {"KRB5_CONFIG": os.path.join(KerberosTest.kdc_dir, "krb5.conf")}
        if ccache:
            env["KRB5CCNAME"] = f"FILE:{ccache}"
        return env

    def test_librdkafka_has_gssapi_and_cyrus_its_plugin(self):
        self.assertIn("sasl_gssapi", librdkafka_features())
        self.assertTrue(cyrus_gssapi_plugins())

    def assert_reference_lag_and_time_lag(self, exporter, cluster):
        expected = {p: int(row["LAG"]) for (g, _, p), row in self.reference.items() if g == "krb-group"}
        self.assertEqual(expected, {0: 20, 1: 5})
        # Time lag fetches records through the same GSSAPI listener.
        wait_until(lambda: len(select(exporter.metrics(), "kafka_consumergroup_group_lag_seconds",
                                      cluster_name=cluster, group="krb-group")) == 2, 60,
                   f"time lag through Kerberos ({cluster})")
        m = exporter.metrics()
        self.assertEqual(value(m, "kafka_lag_exporter_up", cluster_name=cluster), 1)
        got = {p: value(m, "kafka_consumergroup_group_lag", cluster_name=cluster, group="krb-group",
                        partition=p) for p in (0, 1)}
        self.assertEqual(got, expected)
        for p in (0, 1):
            seconds = value(m, "kafka_consumergroup_group_lag_seconds", cluster_name=cluster,
                            group="krb-group", partition=p)
            self.assertGreaterEqual(seconds, 0)
            self.assertLess(seconds, 600)
        log = exporter.log_text()
        self.assertNotIn(f"cluster {cluster}: cannot connect", log)
        self.assertNotIn("missing a GSSAPI module", log)
        return log

    def test_kerberos_reports_the_reference_lag_and_time_lag(self):
        self.assert_reference_lag_and_time_lag(self.exporter, "kerberos")

    def test_a_client_keytab_needs_no_kinit(self):
        # KRB5_CLIENT_KTNAME: MIT's GSSAPI gets the initial ticket from the
        # keytab itself; with relogin off librdkafka never runs kinit, and
        # this exporter has no PATH to find one.
        log = self.assert_reference_lag_and_time_lag(self.client_keytab, "client-keytab")
        self.assertNotIn("kinit", log)
        # KRB5CCNAME=MEMORY: nothing went to krb5.conf's default_ccache_name.
        self.assertFalse(os.path.exists(os.path.join(self.kdc_dir, "ccache")))

    def test_the_kdc_issued_klag_a_ticket_for_the_broker_via_default_kinit(self):
        with open(os.path.join(self.kdc_dir, "kdc.log")) as f:
            kdc_log = f.read()
        self.assertIn(f"{CLIENT_PRINCIPAL} for {BROKER_PRINCIPAL}", kdc_log)  # TGS_REQ: service ticket
        self.assertIn(f"{CLIENT_PRINCIPAL} for krbtgt/{REALM}@{REALM}", kdc_log)  # AS_REQ: kinit's TGT
        # librdkafka's default sasl.kerberos.kinit.cmd put klag's ticket into
        # the exporter's credential cache, next to the service ticket.
        res = subprocess.run(["klist", "-c", f"FILE:{self.ccache}"], capture_output=True, text=True,
                             env=dict(os.environ, KRB5_CONFIG=self.krb5_conf))
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn(f"Default principal: {CLIENT_PRINCIPAL}", res.stdout)
        self.assertIn(f"krbtgt/{REALM}@{REALM}", res.stdout)

    def test_tickets_are_refreshed_with_a_custom_kinit_command(self):
        # Each librdkafka handle runs the command once a second: wait until
        # the runs span three seconds.
        def span():
            with open(self.kinit_marks) as f:
                times = [float(t) for t in f.read().split()]
            return max(times) - min(times)
        wait_until(lambda: span() >= 3, 30, "kinit refreshes over three seconds")
        self.assert_reference_lag_and_time_lag(self.refresh, "refresh")

    def cannot_connect_line(self, exporter, cluster):
        lines = []

        def found():
            lines[:] = [line for line in exporter.log_text().splitlines()
                        if f"cluster {cluster}: cannot connect" in line]
            return lines
        wait_until(found, 30, f"the cannot-connect line of cluster {cluster}")
        self.assertEqual(value(exporter.metrics(), "kafka_lag_exporter_up", cluster_name=cluster), 0)
        self.assertFalse(select(exporter.metrics(), "kafka_consumergroup_group_lag", cluster_name=cluster))
        self.assertEqual(exporter.get("/health")[0], 200)
        return lines[0]

    def test_a_bootstrap_by_ip_asks_for_the_wrong_service_principal(self):
        # The client builds the service principal from the host name it
        # connects to: kafka/127.0.0.1, which the KDC does not know.
        line = self.cannot_connect_line(self.by_ip, "by-ip")
        self.assertIn(f"Server kafka/127.0.0.1@{REALM} not found in Kerberos database", line)
        self.assertIn("SASL authentication", line)

    def test_a_principal_missing_from_the_keytab_has_no_credentials(self):
        line = self.cannot_connect_line(self.wrong_principal, "wrong-principal")
        self.assertIn("No Kerberos credentials available", line)
        # kinit's own stderr goes to the exporter's.
        self.assertIn(f"Keytab contains no suitable keys for nobody@{REALM}", self.wrong_principal.log_text())

    def test_without_the_cyrus_gssapi_plugin_no_mechanism_is_available(self):
        line = self.cannot_connect_line(self.no_plugin, "no-gssapi-plugin")
        self.assertIn("SASL(-4): no mechanism available: No worthy mechs found", line)
        self.assertIn("Cyrus/libsasl2 is missing a GSSAPI module: make sure the libsasl2-modules-gssapi-mit",
                      self.no_plugin.log_text())


if __name__ == "__main__":
    unittest.main()
