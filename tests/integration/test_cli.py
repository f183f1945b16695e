"""The binary's command line: --help, --version, --check-config, bad config
and bad flags. No Kafka needed."""

import os
import subprocess
import tempfile
import unittest

from klag_harness import EXPORTER


def run(*args, env=None):
    return subprocess.run([EXPORTER, *args], capture_output=True, text=True, timeout=20,
                          env=dict(os.environ, **(env or {})))


def write(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    f.write(text)
    f.close()
    return f.name


GOOD = """
[exporter]
poll_interval = "30s"
[[clusters]]
name = "c"
bootstrap_servers = "${KLAG_TEST_BOOTSTRAP:-localhost:9092}"
"""


class CliTest(unittest.TestCase):
    def test_help_lists_the_options(self):
        res = run("--help")
        self.assertEqual(res.returncode, 0)
        for opt in ("-c,--config", "-l,--log-level", "--check-config", "--version"):
            self.assertIn(opt, res.stdout)

    def test_version(self):
        res = run("--version")
        self.assertEqual(res.returncode, 0)
        self.assertRegex(res.stdout.strip(), r"^klag-exporter \d+\.\d+\.\d+$")

    def test_check_config_accepts_a_good_file(self):
        res = run("--check-config", "-c", write(GOOD))
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("config OK", res.stdout)

    def test_check_config_names_the_bad_key(self):
        path = write(GOOD.replace("poll_interval", "pol_interval"))
        res = run("--check-config", "-c", path)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("exporter.pol_interval", res.stderr)
        self.assertIn("line 3", res.stderr)

    def test_unset_variable_is_an_error_naming_it(self):
        path = write(GOOD.replace("${KLAG_TEST_BOOTSTRAP:-localhost:9092}", "${KLAG_TEST_UNSET_VAR}"))
        res = run("-c", path)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("KLAG_TEST_UNSET_VAR", res.stderr)
        self.assertIn("clusters[0].bootstrap_servers", res.stderr)

    def test_missing_file(self):
        res = run("-c", "/nonexistent/klag.toml")
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("/nonexistent/klag.toml", res.stderr)

    def test_bad_log_level(self):
        res = run("-l", "loud", "--check-config", "-c", write(GOOD))
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("loud", res.stderr)

    def test_shipped_configs_are_valid(self):
        root = os.path.join(os.path.dirname(__file__), "..", "..", "config")
        for name in sorted(os.listdir(root)):
            if name.endswith(".toml"):
                with self.subTest(name):
                    res = run("--check-config", "-c", os.path.join(root, name))
                    self.assertEqual(res.returncode, 0, res.stderr)


if __name__ == "__main__":
    unittest.main()
