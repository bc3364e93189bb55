#!/usr/bin/env bash
# The demo on a fresh Debian 12 machine: installs what is missing, builds, and starts the broker
# on its embedded store (var/demo.db) with deploy/demo/sektorbro.json — two jobcenters and two
# psychiatry departments, simulated on loopback by sektorbro-sim, exchanging traffic.
# Run with --help for the options. Ctrl-C stops everything.
set -euo pipefail

usage() {
  cat <<'TEXT'
usage: deploy/demo.sh [--seconds N] [--interval-ms M] [--help]

Installs what is missing (Debian 12), builds, starts the broker on 127.0.0.1 with an empty
store (var/demo.db) and simulated jobcenters and psychiatry departments sending it traffic.

  --seconds N      stop the simulated traffic after N seconds and print a short summary;
                   the broker keeps running so you can look around (Ctrl-C stops it)
  --interval-ms M  pause between simulated letters (default 1500)
  -h, --help       this text (nothing is installed, built or started)
TEXT
}

# The options are read before anything is installed or built, so --help and a typo cost nothing.
seconds=""
sim_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --seconds | --interval-ms)
      if [ $# -lt 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
        echo "demo.sh: $1 needs a whole number" >&2; usage >&2; exit 2
      fi
      [ "$1" = --seconds ] && seconds="$2"
      sim_args+=("$1" "$2"); shift 2 ;;
    *) echo "demo.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
./deploy/install-deps.sh
./deploy/build.sh
mkdir -p var
rm -f var/demo.db var/demo.db-wal var/demo.db-shm   # every demo starts from an empty store
# The citizen index's key (privacy.cpr_index_key_file in the configuration): a fresh random one
# for each fresh store, readable by this user only and kept outside the store, so the console's
# CPR search works (acting operators only; on the demo's plain loopback listener, whoever opens
# the console acts).
cpr_key=var/demo-cpr-index.key
rm -f "$cpr_key"
(umask 077 && head -c 32 /dev/urandom >"$cpr_key")
config=deploy/demo/sektorbro.json
port=$(sed -n 's/.*"port": *\([0-9]*\).*/\1/p' "$config" | head -n 1)
broker_url="http://127.0.0.1:${port}"

./build/broker/server/sektorbro --config "$config" 2>var/demo-broker.log &
broker_pid=$!
sim_pid=""
trap 'kill $broker_pid $sim_pid 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 100); do
  curl -fsS "$broker_url/v1/health" >/dev/null 2>&1 && break
  kill -0 "$broker_pid" 2>/dev/null || { echo "the broker did not start:"; cat var/demo-broker.log; exit 1; }
  sleep 0.1
done

cat <<TEXT

Sektorbro is running on $broker_url with its store in var/demo.db.
The operators' console:        $broker_url/console/   (open it in a browser)
DEMO ONLY: the broker's clock runs 43,200 times faster than real time (one second is twelve
hours), so certificate deadlines of 14 days pass in half a minute. Production runs on the real
clock; /v1/health says which clock a broker runs on.
The broker's log:              tail -f var/demo-broker.log
Messages and their state:      curl -s '$broker_url/v1/messages?limit=20'
Waiting for delivery:          curl -s '$broker_url/v1/messages?state=pending'
Dead letters:                  curl -s $broker_url/v1/dead-letters
One message and its timeline:  curl -s $broker_url/v1/messages/<sender GLN>/<letter id>
Messages about one citizen:    the console's Messages page, "Search by CPR number" (audited), or
                               curl -s -H 'Content-Type: application/json' -d '{"cpr": "<CPR>"}' $broker_url/v1/messages/search-by-cpr
Open, overdue, answered late:  ./build/broker/cli/sektorbro-ctl deadlines overdue
Late shares per unit/month:    ./build/broker/cli/sektorbro-ctl stats
Inside the store:              sqlite3 var/demo.db 'select id, envelope_id, state, attempts from messages'

TEXT
if [ -n "$seconds" ]; then
  echo "Simulated endpoints for $seconds seconds; the broker stays up afterwards (Ctrl-C stops it):"
else
  echo "Simulated endpoints (Ctrl-C stops everything):"
fi
./build/demo/sektorbro-sim --config "$config" --broker "$broker_url" "${sim_args[@]}" &
sim_pid=$!
sim_status=0
wait "$sim_pid" || sim_status=$?
sim_pid=""

# Only --seconds gets here with the broker still running: the traffic is over, the broker stays.
kill -0 "$broker_pid" 2>/dev/null || { echo "the broker has stopped; its log: var/demo-broker.log"; exit 1; }
count_by_state() {  # "delivered 12, pending 1" from the store (read-only; the broker keeps it)
  sqlite3 -readonly var/demo.db "select state || ' ' || count(*) from $1 group by state" \
    2>/dev/null | paste -sd, - | sed 's/,/, /g'
}
cat <<TEXT

Summary after $seconds seconds of traffic (the simulator exited with status $sim_status):
  messages by state:   $(count_by_state messages)
  deadlines by state:  $(count_by_state deadlines)
The broker is still running on $broker_url: every command above works. Ctrl-C stops it.
TEXT
wait "$broker_pid"
