#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is missing, builds, runs every
# test (unit and integration) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
./deploy/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
