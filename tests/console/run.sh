#!/usr/bin/env bash
# The console's browser tests: tests/console/run.sh [BROKER_BINARY] [CONSOLE_ASSETS]
# Defaults: build/broker/server/sektorbro and build/console. Installs playwright-core (pinned in
# package-lock.json) on first use and builds the console if it is not built. A broker that does
# not serve /console/ fails the run (it is no longer reported as skipped).
# SEKTORBRO_SCREENSHOTS=<folder> keeps a screenshot of each page.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
binary="${1:-$root/build/broker/server/sektorbro}"
assets="${2:-$root/build/console}"
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "console tests: $tool is missing (deploy/install-deps.sh)"; exit 1; }
done
[ -x "${SEKTORBRO_CHROMIUM:-/usr/bin/chromium}" ] || { echo "console tests: chromium is missing (deploy/install-deps.sh)"; exit 1; }
[ -x "$binary" ] || { echo "console tests: no broker binary at $binary"; exit 1; }
if [ ! -f "$assets/index.html" ]; then
  OUT="$assets" "$root/deploy/build-console.sh"
fi
cd "$here"
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
[ -n "${SEKTORBRO_SCREENSHOTS:-}" ] && mkdir -p "$SEKTORBRO_SCREENSHOTS"
export SEKTORBRO_BROKER_BINARY="$binary" SEKTORBRO_CONSOLE_ASSETS="$assets"
exec node console.e2e.test.mjs
