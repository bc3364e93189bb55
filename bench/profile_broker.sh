#!/usr/bin/env bash
# Profiles the broker under the side-by-side load (docs/performance.md, "Profile"): runs one
# Sektorbro-only round of sektorbro-sidebyside-bench and, while its full-speed window runs,
# samples that broker process with perf (cpu-clock, the software event: it works in VMs where
# hardware counters do not; DWARF call graphs, as the release build keeps no frame pointers).
# Then prints the top functions by thread (the io thread is the main one, whose id is the pid; the
# others are named for their work: sb-writer, sb-codec, sb-post, sb-http): self time, time with
# callees, and time grouped by the nearest function of ours on the stack.
#
#   bench/profile_broker.sh [BUILD_DIR] [SECONDS]      (defaults: build, 15)
#
# PIPELINE (default 8) is the letters in flight per client connection, as the side-by-side runs
# in docs/performance.md use; PIPELINE=1 profiles one request at a time per connection.
#
# Needs linux-perf (Debian: apt-get install linux-perf). Output: $OUT (default
# /tmp/sektorbro-profile) with perf.data and the reports.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
SECONDS_TO_SAMPLE=${2:-15}
OUT=${OUT:-/tmp/sektorbro-profile}
mkdir -p "$OUT"

# Samples of thread $2 grouped by the nearest function of ours on each stack, leaf first, so that
# SQLite's, zstd's or the kernel's time is counted to the store or codec function that called it.
# Frames matching $OWN_SKIP (the statement wrapper, the savepoint helper) are passed over, so a
# store's SQL is counted to the store function that ran it. This view found the CHECK lists'
# temporary B-trees (docs/performance.md, "CHECK lists").
report_by_own_function() {
  local dir=$1 tid=$2
  perf script -i "$dir/perf.data" --tid "$tid" -F ip,sym 2>/dev/null |
    awk -v skip="${OWN_SKIP:-Query::|::atomically<|^sektorbro::run_on<}" '
      function count() {
        if (in_sample) { n++; counts[own == "" ? "(none of ours)" : own]++ }
        in_sample = 0; own = ""
      }
      /^[[:space:]]*$/ { count(); next }
      {
        in_sample = 1
        if (own != "") next
        line = $0
        sub(/^[[:space:]]*[0-9a-f]+[[:space:]]+/, "", line)
        if (line ~ /^sektorbro::/ && line !~ skip) own = substr(line, 1, 110)
      }
      END {
        count()
        for (k in counts) printf "%6.1f%%  %s\n", 100 * counts[k] / n, k
      }' | sort -rn | head -30 || true
}

# Per-thread reports of $1/perf.data ("perf report --sort pid" lists threads as tid:comm).
report_threads() {
  local dir=$1
  perf report -i "$dir/perf.data" --no-children --sort pid --stdio -g none 2>/dev/null |
    grep -v '^#' | grep '%' >"$dir/threads.txt" || true
  for tid in $(awk '{print $2}' "$dir/threads.txt" | cut -d: -f1); do
    {
      echo "== thread $tid: self time"
      perf report -i "$dir/perf.data" --no-children --tid "$tid" --sort sym --stdio -g none \
        2>/dev/null | grep -v '^#' | grep '%' | head -25 || true
      echo "== thread $tid: with callees"
      perf report -i "$dir/perf.data" --children --tid "$tid" --sort sym --stdio -g none \
        2>/dev/null | grep -v '^#' | grep '%' | head -40 || true
      echo "== thread $tid: by the nearest function of ours"
      report_by_own_function "$dir" "$tid"
    } >"$dir/thread-$tid.txt"
  done
}
if [ "${REPORT_ONLY:-}" = 1 ]; then  # re-read an existing $OUT/perf.data
  report_threads "$OUT"
  cat "$OUT/threads.txt"
  exit 0
fi

broker="$(cd "$BUILD_DIR" && pwd)/broker/server/sektorbro"
bench="$BUILD_DIR/bench/sektorbro-sidebyside-bench"

"$bench" --only sektorbro --rounds 1 --seconds $((SECONDS_TO_SAMPLE + 10)) \
  --latency-seconds 1 --pipeline "${PIPELINE:-8}" >"$OUT/bench.log" 2>&1 &
bench_pid=$!
trap 'kill "$bench_pid" 2>/dev/null || true' EXIT

# The broker this bench started: a child of the bench whose executable is our broker binary.
pid=""
for _ in $(seq 1 300); do
  for c in $(cat /proc/"$bench_pid"/task/*/children 2>/dev/null); do
    [ "$(readlink /proc/"$c"/exe 2>/dev/null)" = "$broker" ] && pid=$c
  done
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] || { echo "profile: the broker did not start; see $OUT/bench.log"; exit 1; }
sleep 2  # let the load reach its steady state before sampling
perf record -e cpu-clock -F 250 --call-graph dwarf,16384 -p "$pid" -o "$OUT/perf.data" \
  -- sleep "$SECONDS_TO_SAMPLE" 2>"$OUT/perf-record.log"
wait "$bench_pid" || true
trap - EXIT

report_threads "$OUT"

cat "$OUT/bench.log"
echo "--- threads (share of samples):"
cat "$OUT/threads.txt"
echo "reports in $OUT/thread-*.txt"
