#!/usr/bin/env bash
# Helm, for the chart tests only: Debian has no helm package, so it is built
# from its Go module (helm.sh/helm/v3) with the machine's Go and cached
# outside git. Idempotent. Prints the binary's path.
set -euo pipefail
PATH=$PATH:/usr/local/go/bin:$HOME/go/bin
VERSION=v3.22.0
BIN="${KLAG_CACHE_DIR:-$HOME/.cache/klag-exporter}/helm-$VERSION/helm"
if [ ! -x "$BIN" ]; then
  command -v go >/dev/null || { echo "helm.sh: needs Go to build helm $VERSION (none on PATH)" >&2; exit 1; }
  mkdir -p "$(dirname "$BIN")"
  GOBIN="$(dirname "$BIN")" CGO_ENABLED=0 go install "helm.sh/helm/v3/cmd/helm@$VERSION" >&2
fi
echo "$BIN"
