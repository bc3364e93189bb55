#!/usr/bin/env bash
# Given to sektorbro-sidebyside-bench as --broker: starts the broker ($BROKER_BIN, default the
# build's) with the bench's configuration, its endpoints' URLs pointed at $RECEIVER_URL instead
# of the bench's receiver (e.g. bench/backlog/slow_receiver.py), and its store at $STORE_PATH if
# set (kept after the bench with its configuration beside it, STORE_PATH.json, to start a
# broker on the backlog again), or in the PostgreSQL database $PG_CONNINFO if set (a libpq
# conninfo without quotes; every broker then runs as cluster node "bench"). docs/performance.md, "What a backlog holds in memory" and
# "PostgreSQL's lease pass", has the commands.
set -euo pipefail
: "${RECEIVER_URL:?set RECEIVER_URL}"
args=()
for a in "$@"; do
  if [[ -f $a && $a == *.json ]]; then
    sed -E "s#\"url\": *\"http://127.0.0.1:[0-9]+[^\"]*\"#\"url\": \"${RECEIVER_URL}\"#g" "$a" > "$a.to"
    if [[ -n ${STORE_PATH:-} ]]; then
      sed -i -E "s#\"path\": *\"bench.db\"#\"path\": \"${STORE_PATH}\"#" "$a.to"
      cp "$a.to" "${STORE_PATH}.json"  # to start a broker on the backlog afterwards
    fi
    if [[ -n ${PG_CONNINFO:-} ]]; then
      sed -i -E "s#\"path\": *\"bench.db\"#\"kind\": \"postgres\", \"conninfo\": \"${PG_CONNINFO}\"#" "$a.to"
      # One node name for every broker the bench starts, so that the next resumes the leases of
      # the last instead of waiting for them to end and taking them over.
      sed -i -E "0,/^\{/s##{\"cluster\": {\"node\": \"bench\"}, #" "$a.to"
    fi
    args+=("$a.to")
  else
    args+=("$a")
  fi
done
exec "${BROKER_BIN:-$(dirname "$0")/../../build/broker/server/sektorbro}" "${args[@]}"
