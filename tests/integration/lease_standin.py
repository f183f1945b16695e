"""A stand-in for the Kubernetes Lease API, for the leader-election tests.

This is NOT a Kubernetes API server. It serves only what the exporter's
Lease election uses, over HTTPS with a bearer token:

    GET  /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}
    POST /apis/coordination.k8s.io/v1/namespaces/{ns}/leases
    PUT  /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}

with the API server's rules that election relies on: a resourceVersion
that changes on every write, 404 for a missing lease, 409 Conflict for a
PUT carrying a stale resourceVersion or a POST of a lease that exists, and
401 without the right token. Error bodies are Status objects.

For the tests it records every request and can inject faults: answer the
next N PUTs with 409 as if a peer had written, or go unreachable for a
while (accept connections but never answer, or answer 503).

Standard library only; the CA and server certificate come from the openssl
helper shared with the OTLP TLS tests."""

import http.server
import json
import os
import re
import socketserver
import ssl
import threading
import time
import uuid

from tls_ca import make_test_ca

_PATH = re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/([^/]+)/leases(?:/([^/]+))?$")


class LeaseStandIn:
    def __init__(self, directory, token):
        """Serves on 127.0.0.1 (a free port) with a fresh CA in `directory`.
        Clients must send `Authorization: Bearer <token>`."""
        self.ca_file, cert, key = make_test_ca(directory)
        self.token = token
        self.lock = threading.Lock()
        self.leases = {}        # (namespace, name) -> Lease object (dict)
        self.version = 0        # the last resourceVersion handed out
        self.requests = []      # dicts: t (monotonic), method, path, status, holder (in the body), injected
        self.conflict_puts = 0  # answer this many PUTs with 409 first
        self.down = None        # None, "hang" or "503"
        self.up = threading.Event()
        self.up.set()
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a client of the real API server gets

            def do_GET(self):
                standin._handle(self, "GET")

            def do_POST(self):
                standin._handle(self, "POST")

            def do_PUT(self):
                standin._handle(self, "PUT")

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        # The handshake runs on the connection's thread, not the accept loop.
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
        self.port = self.server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # --- control, from the test ------------------------------------------

    def stop(self):
        self.come_back()
        self.server.shutdown()
        self.server.server_close()

    def fail_next_puts(self, n):
        """The next n PUTs answer 409 Conflict without writing anything."""
        with self.lock:
            self.conflict_puts = n

    def go_down(self, mode="hang"):
        """'hang': accept and read requests but never answer (until
        come_back, then drop the connection unanswered); '503': answer
        every request 503 Service Unavailable."""
        with self.lock:
            self.down = mode
            if mode == "hang":
                self.up.clear()

    def come_back(self):
        with self.lock:
            self.down = None
            self.up.set()

    def lease(self, namespace, name):
        with self.lock:
            obj = self.leases.get((namespace, name))
            return json.loads(json.dumps(obj)) if obj else None

    def holder(self, namespace, name):
        obj = self.lease(namespace, name)
        return (obj or {}).get("spec", {}).get("holderIdentity") if obj else None

    def seen(self, **match):
        """Recorded requests whose fields equal `match`."""
        with self.lock:
            return [r for r in self.requests if all(r.get(k) == v for k, v in match.items())]

    # --- serving ---------------------------------------------------------

    def _handle(self, h, method):
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        holder = ((body or {}).get("spec") or {}).get("holderIdentity") if isinstance(body, dict) else None
        record = {"t": time.monotonic(), "method": method, "path": h.path, "holder": holder, "injected": False}
        with self.lock:
            self.requests.append(record)
            mode = self.down
        if mode == "hang":
            self.up.wait()
            record["status"] = None
            h.close_connection = True
            return
        status, obj = self._answer(method, h.path, h.headers.get("Authorization"), body, record)
        record["status"] = status
        out = json.dumps(obj).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(out)))
        h.end_headers()
        h.wfile.write(out)

    def _answer(self, method, path, auth, body, record):
        with self.lock:
            if self.down == "503":
                return 503, _status(503, "ServiceUnavailable", "the stand-in is down")
            if auth != f"Bearer {self.token}":
                return 401, _status(401, "Unauthorized", "Unauthorized")
            m = _PATH.match(path)
            if not m:
                return 404, _status(404, "NotFound", f"the stand-in does not serve {path}")
            ns, name = m.group(1), m.group(2)
            if method == "GET":
                if name is None:
                    return 405, _status(405, "MethodNotAllowed", "list is not served")
                obj = self.leases.get((ns, name))
                if obj is None:
                    return 404, _status(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found')
                return 200, obj
            if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
                return 400, _status(400, "BadRequest", "the body is not a Lease object")
            meta = body["metadata"]
            if method == "POST":
                if name is not None:
                    return 405, _status(405, "MethodNotAllowed", "POST to the collection")
                name = meta.get("name")
                if not name:
                    return 422, _status(422, "Invalid", "metadata.name: Required value")
                if (ns, name) in self.leases:
                    return 409, _status(409, "AlreadyExists", f'leases.coordination.k8s.io "{name}" already exists')
                if meta.get("resourceVersion"):
                    return 422, _status(422, "Invalid", "resourceVersion should not be set on objects to be created")
                meta["uid"] = str(uuid.uuid4())
                meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                return 201, self._write(ns, name, body)
            if method == "PUT":
                if name is None or meta.get("name", name) != name:
                    return 400, _status(400, "BadRequest", "the name in the body does not match the URL")
                current = self.leases.get((ns, name))
                if current is None:
                    return 404, _status(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found')
                if self.conflict_puts > 0:
                    self.conflict_puts -= 1
                    record["injected"] = True
                    return 409, _conflict(name)
                rv = meta.get("resourceVersion")
                # As the API server: a PUT without resourceVersion is unconditional.
                if rv and rv != current["metadata"]["resourceVersion"]:
                    return 409, _conflict(name)
                for k in ("uid", "creationTimestamp"):
                    meta[k] = current["metadata"][k]
                return 200, self._write(ns, name, body)
            return 405, _status(405, "MethodNotAllowed", method)

    def _write(self, ns, name, obj):
        self.version += 1
        obj["apiVersion"] = "coordination.k8s.io/v1"
        obj["kind"] = "Lease"
        obj["metadata"].update({"name": name, "namespace": ns, "resourceVersion": str(self.version)})
        obj.setdefault("spec", {})
        self.leases[(ns, name)] = obj
        return obj


def _status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason,
            "code": code}


def _conflict(name):
    return _status(409, "Conflict", f'Operation cannot be fulfilled on leases.coordination.k8s.io "{name}": '
                   "the object has been modified; please apply your changes to the latest version and try again")
