"""A throwaway certificate authority for TLS tests, made with openssl.
Standard library only, so any test can use it."""

import os
import subprocess


def make_test_ca(directory):
    """A CA and a server certificate for 127.0.0.1 signed by it. Returns
    (ca_pem, server_pem, server_key) paths inside `directory`."""

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=klag-test-ca",
        "-keyout", "ca.key", "-out", "ca.pem")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(directory, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.ext", "-out", "server.pem")
    return tuple(os.path.join(directory, n) for n in ("ca.pem", "server.pem", "server.key"))
