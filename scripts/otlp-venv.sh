#!/usr/bin/env bash
# A Python virtualenv with the official OpenTelemetry protobuf definitions
# (and grpcio for the gRPC receiver),
# used only by the tests to decode what the exporter sends. Cached outside
# git; idempotent. Prints the interpreter's path.
set -euo pipefail
VENV="${KLAG_CACHE_DIR:-$HOME/.cache/klag-exporter}/otlp-venv"
MARKER="$VENV/.klag-otlp-2"
if [ ! -f "$MARKER" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check opentelemetry-proto==1.45.2 grpcio==1.85.3 >&2
  touch "$MARKER"
fi
echo "$VENV/bin/python"
