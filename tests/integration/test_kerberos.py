"""Kerberos (SASL/GSSAPI) against a real broker and a real MIT KDC.

A throwaway KDC (Debian's krb5-kdc, run unprivileged by
tools/kafka/krb5-local.sh) holds the realm KLAG.TEST with the broker's
principal kafka/localhost and the exporter's principal klag, each with a
keytab. kafka-local.sh starts the broker with the broker's keytab: a
PLAINTEXT listener for the workload and Kafka's ConsumerGroupCommand, and a
SASL_PLAINTEXT listener with GSSAPI only, advertised as localhost (the host
name is part of the broker's principal). The exporter gets only that listener, with
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

import ctypes
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

from klag_harness import ROOT, Broker, Exporter, exporter_config, KafkaTestCase, select, value, wait_until

KRB5_LOCAL = os.path.join(ROOT, "tools", "kafka", "krb5-local.sh")
REALM = "KLAG.TEST"
BROKER_PRINCIPAL = f"kafka/localhost@{REALM}"
CLIENT_PRINCIPAL = f"klag@{REALM}"
# Which Debian package provides what this test needs.
TOOLS = {"krb5kdc": "krb5-kdc", "kdb5_util": "krb5-kdc", "kadmin.local": "krb5-admin-server",
         "kinit": "krb5-user", "klist": "krb5-user", "java": "openjdk-17-jre-headless"}

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


EXPORTER_HEAD = exporter_config()


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

        # PLAINTEXT (bootstrap: workload, ConsumerGroupCommand) and a
        # SASL_PLAINTEXT listener with GSSAPI only, advertised as localhost.
        b = cls.broker = Broker(gssapi={"krb5_conf": cls.krb5_conf, "principal": BROKER_PRINCIPAL,
                                        "keytab": os.path.join(cls.kdc_dir, "kafka_localhost.keytab")})
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
