#!/usr/bin/env bash
# A short, bounded fuzz run of every parser that reads untrusted bytes: the native codec, the
# three adapters, the edge's lenient readers and HTTP request handling (libFuzzer, clang,
# ASan + UBSan).
#   ./deploy/fuzz.sh [SECONDS_PER_TARGET] [RUNS]     (defaults: 30 s, 100000 runs; -1 runs = no cap)
# CI runs it after the tests with a fixed seed, so the run is the same every time and a red CI
# means a regression, not luck; longer exploring runs (RUNS=-1, more seconds, SEED=random) find
# new inputs. Exits non-zero on the first finding; the input is left in build-fuzz/findings/.
# Keep small interesting inputs, and every finding, in the target's saved corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
runs="${2:-100000}"
seed="${SEED:-1}"

missing=()
for p in clang-14 libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build-fuzz "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DSEKTORBRO_FUZZ=ON -DSEKTORBRO_BUILD_TESTS=OFF \
  -DSEKTORBRO_BUILD_BENCH=OFF >/dev/null
targets=(fuzz_codec fuzz_oioxml fuzz_sbdh fuzz_fhir fuzz_http fuzz_xml fuzz_edge)
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]}"

mkdir -p build-fuzz/findings
for t in "${targets[@]}"; do
  bin=$(find build-fuzz -type f -name "$t" -perm -u+x | head -n 1)
  corpus="build-fuzz/corpus-$t"
  mkdir -p "$corpus"
  case "$t" in
    fuzz_codec) seeds=(broker/codec/fuzz/corpus schemas/examples) ;;
    fuzz_http) seeds=(broker/http/fuzz/corpus) ;;
    fuzz_oioxml) seeds=(adapters/oioxml/corpus tests/data/medcom schemas/examples) ;;
    fuzz_xml) seeds=(broker/xml/fuzz/corpus tests/data/medcom) ;;
    fuzz_fhir) seeds=(adapters/fhir/corpus tests/data/medcom) ;;
    fuzz_sbdh) seeds=(adapters/sbdh/corpus tests/data/medcom schemas/examples) ;;
    fuzz_edge) seeds=(broker/edge/fuzz/corpus tests/data/medcom schemas/examples) ;;
    *) seeds=(tests/data/medcom schemas/examples) ;;
  esac
  echo "fuzz: $t for ${seconds}s"
  "$bin" -max_total_time="$seconds" -runs="$runs" -seed="$seed" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 \
    -artifact_prefix=build-fuzz/findings/"$t"- "$corpus" "${seeds[@]}" 2>build-fuzz/"$t".log \
    || { echo "fuzz: $t found something:"; tail -n 40 build-fuzz/"$t".log; exit 1; }
  grep -E "^Done|stat::number_of_executed_units" build-fuzz/"$t".log | tail -n 1 || true
done
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no findings"
