#!/usr/bin/env python3
"""Is a Kafka broker ready? It is when a Metadata request lists a broker.

    metadata_probe.py HOST:PORT                    one attempt
    metadata_probe.py HOST:PORT --wait S [--pid P] retry until ready, S seconds,
                                                   or until process P is gone
    --brokers N                                    ready once N brokers are listed

Exit status: 0 ready, 1 not ready / process gone, 2 timed out.

Speaks the wire protocol directly (Metadata v4, the version librdkafka 2.0.2
uses and Kafka 4.x still serves), so that the readiness check needs neither
a JVM start (seconds) nor a built klag-workload, and polls in one process
(interpreter start-up alone can take 150 ms under pyenv).
"""
import argparse
import os
import socket
import struct
import sys
import time

API_METADATA = 3
VERSION = 4
CORRELATION_ID = 0x6B6C6167  # "klag"
POLL_INTERVAL_S = 0.05


def request() -> bytes:
    client_id = b"kafka-local-probe"
    header = struct.pack(">hhih", API_METADATA, VERSION, CORRELATION_ID, len(client_id)) + client_id
    # topics: empty array (brokers only); allow_auto_topic_creation: false
    body = struct.pack(">ib", 0, 0)
    msg = header + body
    return struct.pack(">i", len(msg)) + msg


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed by broker")
        buf += chunk
    return buf


def broker_count(host: str, port: int, timeout: float) -> int:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(request())
        (size,) = struct.unpack(">i", recv_exact(sock, 4))
        resp = recv_exact(sock, size)
    correlation_id, _throttle_ms, brokers = struct.unpack_from(">iii", resp, 0)
    if correlation_id != CORRELATION_ID:
        raise ValueError("unexpected correlation id")
    return brokers


def ready(host: str, port: int, brokers: int = 1) -> bool:
    try:
        return broker_count(host, port, 1.0) >= brokers
    except (OSError, ValueError, struct.error):
        return False


def process_alive(pid: int) -> bool:
    """False once the process exited, including as an unreaped zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("bootstrap", help="HOST:PORT")
    ap.add_argument("--wait", type=float, default=0, help="seconds to keep trying")
    ap.add_argument("--pid", type=int, help="give up when this process is gone")
    ap.add_argument("--brokers", type=int, default=1, help="ready once Metadata lists this many brokers")
    args = ap.parse_args()
    host, _, port = args.bootstrap.rpartition(":")

    deadline = time.monotonic() + args.wait
    while True:
        if args.pid is not None and not process_alive(args.pid):
            return 1
        if ready(host, int(port), args.brokers):
            return 0
        if time.monotonic() >= deadline:
            return 2 if args.wait > 0 else 1
        time.sleep(POLL_INTERVAL_S)


if __name__ == "__main__":
    sys.exit(main())
