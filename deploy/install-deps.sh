#!/usr/bin/env bash
# Installs what Sektorbro needs to build, test and run, from Debian 12's packages. Installs only
# what is missing, so it is quick on a machine that has everything. Run as root (or with sudo).
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config      # toolchain
  libboost-dev                          # Boost 1.74: Asio and Beast (header-only)
  librapidxml-dev                       # RapidXML
  libcurl4-openssl-dev                  # sektorbro-ctl and the tests' HTTP client
  libssl-dev                            # SHA-256 and TLS
  libsqlite3-dev sqlite3                # the embedded store (and its shell, to look inside)
  libzstd-dev                           # bodies at rest are compressed (broker/store/body_codec)
  libjemalloc-dev                       # the daemon's malloc (broker/server/allocator.hpp)
  nlohmann-json3-dev                    # configuration and the operators' JSON
  libgtest-dev libgmock-dev             # unit and integration tests
  libxml2-utils                         # xmllint: the tests validate the schema examples
  curl                                  # the demo's look-around commands
  prometheus                            # promtool: the alerting rules are checked by ctest
  chromium                              # the console's browser tests (headless)
  python3-yaml                          # the OpenAPI check reads docs/openapi.yaml
  librabbitmq-dev                       # bench: the RabbitMQ client of the side-by-side bench
  libsystemd-dev systemd                # sd_notify (Type=notify, watchdog); systemd-analyze verify
  dpkg-dev fakeroot file                # the .deb: cpack's DEB generator, dpkg-shlibdeps
  postgresql libpq-dev                  # the PostgreSQL store (libpq) and its tests' own server
)
# The console's front end is built with npm (deploy/build-console.sh). Debian 12's nodejs and
# npm, unless a node with npm is already there (e.g. another distribution of it).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
