#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is missing, builds, runs every
# test (unit and integration) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
# Shell syntax first, in a second: a fault in a branch that runs only on a systemd host or only
# in CI (package-check.sh's systemctl branches) fails this command, not a later run.
./deploy/package-check.sh --syntax-only
while IFS= read -r -d '' script; do
  bash -n "$script" || { echo "test.sh: shell syntax error in $script" >&2; exit 1; }
done < <(find deploy bench tests broker -name '*.sh' -not -path '*/node_modules/*' -print0)
./deploy/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
