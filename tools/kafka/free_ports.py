#!/usr/bin/env python3
"""Print N distinct free TCP ports on 127.0.0.1, one per line.

All sockets are held open together so the N ports differ, and the kernel's
randomised choice for port 0 keeps parallel runs apart. Ports given with
--exclude (ports of brokers this harness already runs) are never returned.
"""
import argparse
import socket
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("count", type=int)
    ap.add_argument("--exclude", type=int, nargs="*", default=[])
    args = ap.parse_args()

    held, ports = [], []
    try:
        # A bounded number of tries: excluded ports are simply held and skipped.
        for _ in range(args.count + 64):
            if len(ports) == args.count:
                break
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            held.append(s)
            port = s.getsockname()[1]
            if port not in args.exclude:
                ports.append(port)
    finally:
        for s in held:
            s.close()
    if len(ports) != args.count:
        print("free_ports: could not find enough free ports", file=sys.stderr)
        return 1
    print("\n".join(map(str, ports)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
