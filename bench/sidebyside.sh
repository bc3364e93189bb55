#!/usr/bin/env bash
# Sektorbro side by side with RabbitMQ (issue 8). Installs what the run needs from Debian 12
# (rabbitmq-server, librabbitmq-dev) if missing, builds the broker and the benchmark (release
# build with debug info) and runs it; arguments go to the benchmark, e.g.
#
#   bench/sidebyside.sh --rounds 3 --seconds 10 --clients 64
#
# BUILD_DIR (default: build) picks the build directory. The benchmark starts a RabbitMQ node of
# its own (loopback, scratch directory, stopped by pid at the end); the Debian service is never
# used, and if the package started it, it is stopped and disabled here.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=()
for p in rabbitmq-server librabbitmq-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "sidebyside: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# The package may start its own service: that node is not ours and must not run alongside.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  if systemctl is-active --quiet rabbitmq-server 2>/dev/null || \
     systemctl is-enabled --quiet rabbitmq-server 2>/dev/null; then
    echo "sidebyside: stopping and disabling the rabbitmq-server service"
    $SUDO systemctl disable --now rabbitmq-server
  fi
elif [ -x /etc/init.d/rabbitmq-server ] && \
     $SUDO /etc/init.d/rabbitmq-server status >/dev/null 2>&1; then
  echo "sidebyside: stopping the rabbitmq-server service"
  $SUDO /etc/init.d/rabbitmq-server stop || true
  $SUDO update-rc.d rabbitmq-server disable >/dev/null 2>&1 || true
fi

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C "$BUILD_DIR" sektorbro sektorbro-sidebyside-bench
exec "$BUILD_DIR/bench/sektorbro-sidebyside-bench" "$@"
