#!/usr/bin/env bash
# verify-unit.sh SEKTORBRO_BINARY: `systemd-analyze verify` on deploy/systemd/sektorbro.service
# (ctest: systemd_unit_verify). Works without systemd running as PID 1. Verify checks that the
# ExecStart= binaries exist, so a copy of the unit names the built binary instead of
# /usr/bin/sektorbro (deploy/package-check.sh verifies the installed unit as it is). Any output
# fails the test too: verify only warns (exit 0) about unknown keys and bad values.
set -euo pipefail
binary="${1:?usage: verify-unit.sh SEKTORBRO_BINARY}"
unit="$(cd "$(dirname "$0")" && pwd)/sektorbro.service"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

verify() {  # verify UNITFILE: prints what verify said, returns its status
  SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$1" 2>&1
}

mkdir "$work/ok" "$work/broken"
sed "s|/usr/bin/sektorbro|$binary|g" "$unit" > "$work/ok/sektorbro.service"
if ! out="$(verify "$work/ok/sektorbro.service")" || [ -n "$out" ]; then
  echo "verify-unit: systemd-analyze verify found problems in sektorbro.service:" >&2
  echo "$out" >&2
  exit 1
fi
# The check itself can fail: a misspelt key is reported here.
sed 's|^WatchdogSec=|WatchdogSeconds=|' "$work/ok/sektorbro.service" > "$work/broken/sektorbro.service"
out="$(verify "$work/broken/sektorbro.service" || true)"
if [[ "$out" != *"WatchdogSeconds"* ]]; then
  echo "verify-unit: systemd-analyze verify did not report a misspelt key; cannot trust it" >&2
  exit 1
fi
echo "verify-unit: sektorbro.service ok"
