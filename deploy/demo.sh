#!/usr/bin/env bash
# The demo on a fresh Debian 12 machine: installs what is missing, builds, and starts the broker
# on its embedded store (var/demo.db) with deploy/demo/sektorbro.json — two jobcenters and two
# psychiatry departments, simulated on loopback by sektorbro-sim, exchanging traffic.
# Stop it with Ctrl-C. Options: --seconds N stops the traffic after N seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
./deploy/build.sh
mkdir -p var
rm -f var/demo.db var/demo.db-wal var/demo.db-shm   # every demo starts from an empty store
config=deploy/demo/sektorbro.json
port=$(sed -n 's/.*"port": *\([0-9]*\).*/\1/p' "$config" | head -n 1)
broker_url="http://127.0.0.1:${port}"

./build/broker/server/sektorbro --config "$config" 2>var/demo-broker.log &
broker_pid=$!
trap 'kill $broker_pid $sim_pid 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
sim_pid=""
for _ in $(seq 1 100); do
  curl -fsS "$broker_url/v1/health" >/dev/null 2>&1 && break
  kill -0 "$broker_pid" 2>/dev/null || { echo "the broker did not start:"; cat var/demo-broker.log; exit 1; }
  sleep 0.1
done

cat <<TEXT

Sektorbro is running on $broker_url with its store in var/demo.db.
DEMO ONLY: the broker's clock runs 43,200 times faster than real time (one second is twelve
hours), so certificate deadlines of 14 days pass in half a minute. Production runs on the real
clock; /v1/health says which clock a broker runs on.
The broker's log:              tail -f var/demo-broker.log
Messages and their state:      curl -s '$broker_url/v1/messages?limit=20'
Waiting for delivery:          curl -s '$broker_url/v1/messages?state=pending'
Dead letters:                  curl -s $broker_url/v1/dead-letters
One message and its timeline:  curl -s $broker_url/v1/messages/<sender GLN>/<letter id>
Open, overdue, answered late:  ./build/broker/cli/sektorbro-ctl deadlines overdue
Late shares per unit/month:    ./build/broker/cli/sektorbro-ctl stats
Inside the store:              sqlite3 var/demo.db 'select id, envelope_id, state, attempts from messages'

Simulated endpoints (Ctrl-C stops everything):
TEXT
./build/demo/sektorbro-sim --config "$config" --broker "$broker_url" "$@" &
sim_pid=$!
wait $sim_pid
