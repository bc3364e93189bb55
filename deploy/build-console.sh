#!/usr/bin/env bash
# Builds the operators' web console (console/: TypeScript + Vite, versions pinned by
# console/package-lock.json) into build/console/, which the broker serves at /console/.
# npm installs from the registry at set-up only; the built files load nothing from elsewhere.
# Options: OUT=<folder> to build elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-$PWD/build/console}"
if ! command -v npm >/dev/null; then
  echo "build-console: npm is missing: run deploy/install-deps.sh" >&2
  exit 1
fi
cd console
# Reinstall only when the lock file changed since the last install.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
SEKTORBRO_CONSOLE_OUT="$out" npm run --silent build
echo "build-console: the console is in $out"
# The browser tests' driver (playwright-core, pinned), so the tests need no network.
cd ../tests/console
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
