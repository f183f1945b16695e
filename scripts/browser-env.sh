#!/usr/bin/env bash
# playwright-core from the npm registry, to drive Debian's Chromium in the
# web page test (no browser is downloaded: the test points playwright at
# /usr/bin/chromium). Cached outside git; idempotent. Prints the package's
# directory, for require().
set -euo pipefail
VERSION=1.65.1
DIR="${KLAG_CACHE_DIR:-$HOME/.cache/klag-exporter}/playwright-$VERSION"
if [ ! -f "$DIR/node_modules/playwright-core/package.json" ]; then
  command -v npm >/dev/null || { echo "browser-env.sh: needs node and npm" >&2; exit 1; }
  mkdir -p "$DIR"
  # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: playwright-core downloads nothing anyway;
  # belt and braces against a future postinstall.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund --prefix "$DIR" \
    "playwright-core@$VERSION" >&2
fi
echo "$DIR/node_modules/playwright-core"
