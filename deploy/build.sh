#!/usr/bin/env bash
# Configures and builds Sektorbro in ./build (Release with debug info, warnings as errors).
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEKTORBRO_WERROR=ON
fi
cmake --build build -j "$(nproc)"
# The operators' web console (build/console/, served by the broker at /console/).
./deploy/build-console.sh
