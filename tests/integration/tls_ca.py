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


def make_client_cert(directory, name="klag-exporter"):
    """A client certificate signed by the CA make_test_ca made in
    `directory`, for mutual TLS. Returns (cert_pem, key_pem) paths."""

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", "client.key", "-out", "client.csr")
    run("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-out", "client.pem")
    return tuple(os.path.join(directory, n) for n in ("client.pem", "client.key"))
