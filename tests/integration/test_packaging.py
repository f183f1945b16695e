"""The Dockerfile and the systemd unit, checked without a container engine
or a booted systemd: the image's stages use the install script's profiles,
the runtime profile holds every shared library the built binary needs, and
the unit passes systemd-analyze."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from klag_harness import EXPORTER, ROOT

DOCKERFILE = os.path.join(ROOT, "Dockerfile")
INSTALL_DEPS = os.path.join(ROOT, "scripts", "install-deps.sh")
UNIT = os.path.join(ROOT, "deploy", "systemd", "klag-exporter.service")
# In every Debian image (priority required), so not listed in the profile.
BASE_IMAGE = {"libc6", "libstdc++6", "libgcc-s1"}


def install_profile(name):
    """The packages of one array (BUILD, TEST, RUNTIME) of install-deps.sh."""
    with open(INSTALL_DEPS) as f:
        text = f.read()
    m = re.search(rf"^{name}=\((.*?)^\)", text, re.S | re.M)
    assert m, name
    words = []
    for line in m.group(1).splitlines():
        words += line.split("#", 1)[0].split()
    return set(words)


def dockerfile_stages():
    """[(base image, stage name, [instruction lines])] in order; continued
    lines are joined."""
    with open(DOCKERFILE) as f:
        text = re.sub(r"\\\n\s*", " ", f.read())
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?$", line, re.I)
        if m:
            stages.append((m.group(1), m.group(2), []))
        else:
            stages[-1][2].append(line)
    return stages


def package_of(path):
    """The Debian package owning a file (usrmerge: try both spellings)."""
    real = os.path.realpath(path)
    for candidate in {path, real, "/usr" + real if not real.startswith("/usr/") else real[4:]}:
        res = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if res.returncode == 0:
            return res.stdout.split(":", 1)[0]
    raise AssertionError(f"no package owns {path}")


def needed_packages(binary):
    """Packages of the binary's direct shared-library dependencies."""
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout)
    resolved = {}
    for line in subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if m:
            resolved[m.group(1)] = m.group(2)
    return {lib: package_of(resolved[lib]) for lib in needed}


def is_sanitizer_build(binary):
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    return re.search(r"Shared library: \[lib(a|t|l|ub)san\.so", out) is not None


class DockerfileTest(unittest.TestCase):
    def test_two_debian_stages_on_this_machines_release(self):
        stages = dockerfile_stages()
        self.assertEqual([s[1] for s in stages], ["build", "runtime"])
        with open("/etc/os-release") as f:
            codename = re.search(r"^VERSION_CODENAME=(\w+)", f.read(), re.M).group(1)
        # Package names such as libfmt9 are those of one Debian release.
        for image, name, _ in stages:
            self.assertRegex(image, rf"^debian:{codename}(-slim)?$", name)

    def test_stages_install_the_scripts_profiles(self):
        (_, _, build), (_, _, runtime) = dockerfile_stages()
        self.assertTrue(any(re.search(r"install-deps\.sh build\b", i) for i in build), build)
        self.assertTrue(any(re.search(r"install-deps\.sh runtime\b", i) for i in runtime), runtime)
        # Nothing installs packages behind the script's back.
        for i in build + runtime:
            self.assertNotRegex(i, r"apt-get install|apt install")

    def test_runtime_profile_covers_the_binarys_libraries(self):
        if is_sanitizer_build(EXPORTER):
            # A Debug+ASan binary links other libraries (and the sanitizer
            # runtimes) than the Release one the image builds; the main
            # build's run of this test checks that one.
            self.skipTest("sanitizer build")
        runtime = install_profile("RUNTIME")
        needed = needed_packages(EXPORTER)
        self.assertIn("librdkafka.so.1", needed)
        missing = {lib: pkg for lib, pkg in needed.items() if pkg not in runtime | BASE_IMAGE}
        self.assertEqual(missing, {}, "shared libraries whose package the runtime profile lacks")
        # And every runtime package exists in this release's archive.
        for pkg in sorted(runtime):
            res = subprocess.run(["apt-cache", "show", "--no-all-versions", pkg], capture_output=True, text=True)
            self.assertEqual(res.returncode, 0, f"{pkg}: {res.stderr}")

    def test_runtime_stage_runs_the_built_binary_as_non_root_with_a_healthcheck(self):
        (_, _, build), (_, _, runtime) = dockerfile_stages()
        built = re.search(r"--build /build --target klag-exporter", " ".join(build))
        self.assertTrue(built, build)
        copy = next(i for i in runtime if i.startswith("COPY --from=build"))
        src, dst = copy.split()[2:4]
        self.assertEqual(src, "/build/src/app/klag-exporter")
        entry = next(i for i in runtime if i.startswith("ENTRYPOINT"))
        self.assertIn(f'"{dst}"', entry)
        user = next(i for i in runtime if i.startswith("USER")).split()[1]
        self.assertNotIn(user.split(":")[0], ("0", "root"))
        health = next(i for i in runtime if i.startswith("HEALTHCHECK"))
        self.assertIn("/health", health)
        self.assertIn("curl", install_profile("RUNTIME"))
        # The default config the image carries is valid.
        config = next(i for i in runtime if i.startswith("COPY config/"))
        res = subprocess.run([EXPORTER, "--check-config", "-c", os.path.join(ROOT, config.split()[1])],
                             capture_output=True, text=True)
        self.assertEqual(res.returncode, 0, res.stderr)

    def test_build_context_excludes_build_outputs(self):
        with open(os.path.join(ROOT, ".dockerignore")) as f:
            ignored = {line.strip() for line in f if line.strip() and not line.startswith("#")}
        self.assertLessEqual({"build*/", ".git/", ".cache/"}, ignored)


class SystemdUnitTest(unittest.TestCase):
    def unit_for_this_machine(self, tmp):
        """The unit with the built binary and the example config in place of
        the installed paths (verify checks that ExecStart exists)."""
        with open(UNIT) as f:
            text = f.read()
        text = text.replace("/usr/local/bin/klag-exporter", EXPORTER)
        text = text.replace("/etc/klag-exporter/config.toml", os.path.join(ROOT, "config", "example.toml"))
        path = os.path.join(tmp, "klag-exporter.service")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_unit_verifies_cleanly(self):
        with tempfile.TemporaryDirectory() as tmp:
            res = subprocess.run(["systemd-analyze", "verify", self.unit_for_this_machine(tmp)],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stderr.strip(), "", "systemd-analyze warnings")

    def test_unit_is_hardened(self):
        with tempfile.TemporaryDirectory() as tmp:
            res = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=20",
                                  self.unit_for_this_machine(tmp)], capture_output=True, text=True, timeout=60)
        exposure = re.search(r"Overall exposure level for \S+: ([\d.]+)", res.stdout)
        self.assertEqual(res.returncode, 0, f"exposure above 2.0: {exposure and exposure.group(1)}")

    def test_unit_reloads_with_sighup_and_checks_the_config_first(self):
        with open(UNIT) as f:
            text = f.read()
        self.assertIn("ExecReload=/bin/kill -HUP $MAINPID", text)
        self.assertRegex(text, r"ExecStartPre=\S+ --check-config")


if __name__ == "__main__":
    unittest.main()
