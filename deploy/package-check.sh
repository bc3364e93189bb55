#!/usr/bin/env bash
# package-check.sh: the Debian package end to end (issue 11, item 6), as root on Debian 12 — CI
# runs it after the tests (.ci/run); it runs on a developer's machine too and cleans up after.
#   1. builds the .deb with CPack from an already built tree (BUILD=build by default);
#   2. installs it with dpkg -i and checks the user, folders, modes and the conffile;
#   3. checks the installed unit (systemd-analyze verify) and configuration (--check-config);
#   4. starts the INSTALLED broker with the INSTALLED configuration as user sektorbro (systemctl
#      when systemd runs, else directly), posts the installed example letter, checks the answer
#      and the stored message, stops it (SIGTERM drains, exit 0), verifies the audit chain;
#   5. dpkg -r (configuration and state stay), then dpkg --purge (both gone).
# Every wait is bounded. Refuses to run where a sektorbro package is installed already.
#
# The systemctl branches (step 4 when /run/systemd/system exists) run only on a host booted with
# systemd; CI's machine and containers have no systemd as PID 1, so there they are checked
# statically only: every run first parses the whole script (bash -n) and, where shellcheck is
# installed, lints it, so a broken branch fails here too. `package-check.sh --syntax-only` does
# just that (no root needed). The unit itself is checked by systemd-analyze verify (step 3).
set -euo pipefail
self="$(readlink -f "$0")"
cd "$(dirname "$self")/.."
# Static check of every branch, the systemctl ones included (see above).
bash -n "$self" || { echo "package-check: FAILED: bash -n" >&2; exit 1; }
if command -v shellcheck >/dev/null; then
  shellcheck -S warning "$self" || { echo "package-check: FAILED: shellcheck" >&2; exit 1; }
fi
if [ "${1:-}" = --syntax-only ]; then
  echo "package-check: syntax ok (bash -n$(command -v shellcheck >/dev/null && echo ', shellcheck'))"
  exit 0
fi
build="${BUILD:-build}"
port=8440
url="http://127.0.0.1:$port"
work="$(mktemp -d)"
broker_pid=""
user_existed=no
getent passwd sektorbro >/dev/null && user_existed=yes
installed=no

say() { echo "package-check: $*"; }
fail() {
  echo "package-check: FAILED: $*" >&2
  [ -s "$work/broker.log" ] && { echo "--- the broker's log:" >&2; tail -n 40 "$work/broker.log" >&2; }
  exit 1
}
cleanup() {
  if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then
    kill -KILL "$broker_pid" 2>/dev/null || true
  fi
  if [ "$installed" = yes ]; then
    systemd_running && systemctl stop sektorbro.service >/dev/null 2>&1 || true
    dpkg --purge sektorbro >/dev/null 2>&1 || true
  fi
  # The package keeps its system user (Debian's advice); a user this run made goes again.
  if [ "$user_existed" = no ] && getent passwd sektorbro >/dev/null; then
    userdel sektorbro >/dev/null 2>&1 || true
    getent group sektorbro >/dev/null && groupdel sektorbro >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
systemd_running() { [ -d /run/systemd/system ]; }
# owner:group mode of a path
stat_of() { stat -c '%U:%G %a' "$1"; }

[ "$(id -u)" -eq 0 ] || fail "run as root (it installs a package)"
if dpkg-query -W -f='${Status}' sektorbro 2>/dev/null | grep -q "installed"; then
  fail "a sektorbro package is installed on this machine already; not touching it"
fi
[ -f "$build/CMakeCache.txt" ] || fail "$build is not a configured build (run deploy/build.sh)"

say "building the .deb in $build"
if [ ! -f "$build/console/index.html" ]; then
  OUT="$PWD/$build/console" ./deploy/build-console.sh >"$work/console.log" 2>&1 ||
    { tail -n 30 "$work/console.log" >&2; fail "deploy/build-console.sh"; }
fi
# The programs the package installs (deploy/CMakeLists.txt), those that this build defines.
targets=()
known="$(cmake --build "$build" --target help)"
for t in sektorbro sektorbro-ctl sektorbro-audit sektorbro-backup; do
  grep -qE "(^|[ /])$t(:| |$)" <<<"$known" && targets+=("$t")
done
cmake --build "$build" --target "${targets[@]}" >"$work/build.log" 2>&1 ||
  { tail -n 30 "$work/build.log" >&2; fail "building the binaries"; }
rm -rf "$build/packages"
(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack"; }
deb="$(ls "$build"/packages/sektorbro_*.deb)"
say "built $deb ($(du -h "$deb" | cut -f1)); depends: $(dpkg-deb -f "$deb" Depends)"

say "installing it with dpkg -i"
installed=yes
if ! dpkg -i "$deb" >"$work/dpkg.log" 2>&1; then
  # Dependencies missing on this machine: apt fetches them and finishes the configuration.
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >>"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log" >&2; fail "dpkg -i"; }
fi
dpkg-query -W -f='${Status}\n' sektorbro | grep -q "install ok installed" || fail "not installed"

say "checking what it installed"
getent passwd sektorbro | grep -q ':/var/lib/sektorbro:/usr/sbin/nologin$' ||
  fail "user sektorbro: $(getent passwd sektorbro || echo missing)"
[ "$(stat_of /var/lib/sektorbro)" = "sektorbro:sektorbro 750" ] ||
  fail "/var/lib/sektorbro is $(stat_of /var/lib/sektorbro)"
[ "$(stat_of /etc/sektorbro/sektorbro.json)" = "root:sektorbro 640" ] ||
  fail "/etc/sektorbro/sektorbro.json is $(stat_of /etc/sektorbro/sektorbro.json)"
dpkg-query -W -f='${Conffiles}\n' sektorbro | grep -q '^ /etc/sektorbro/sektorbro.json ' ||
  fail "/etc/sektorbro/sektorbro.json is not a conffile"
for f in /usr/bin/sektorbro /usr/bin/sektorbro-ctl /usr/bin/sektorbro-audit \
         /lib/systemd/system/sektorbro.service /usr/share/doc/sektorbro/deploy.md \
         /usr/share/sektorbro/console/index.html \
         /usr/share/sektorbro/schemas/examples/certificate-request-lae125.xml; do
  [ -e "$f" ] || fail "$f is missing"
done
version="$(/usr/bin/sektorbro --version)"
[[ "$version" == "sektorbro $(dpkg-query -W -f='${Version}' sektorbro)"* ]] ||
  fail "--version says '$version'"
say "$version"
if command -v systemd-analyze >/dev/null; then
  out="$(SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no /lib/systemd/system/sektorbro.service 2>&1)" ||
    fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify: $out"
  say "systemd-analyze verify: the installed unit is clean"
fi
out="$(runuser -u sektorbro -- /usr/bin/sektorbro --check-config /etc/sektorbro/sektorbro.json 2>&1)" ||
  fail "--check-config: $out"
[ "$out" = ok ] || fail "--check-config said '$out'"
say "--check-config on the installed configuration, as sektorbro: ok"

if systemd_running; then
  say "starting it with systemctl (Type=notify: returns once the broker said READY=1)"
  timeout 120 systemctl start sektorbro.service || fail "systemctl start"
  systemctl is-active --quiet sektorbro.service || fail "the unit is not active after start"
  main_pid="$(systemctl show -p MainPID --value sektorbro.service)"
  [ "$(stat -c %U "/proc/$main_pid")" = sektorbro ] || fail "the broker does not run as sektorbro"
else
  say "starting it as user sektorbro (systemd is not running here)"
  mkfifo "$work/stdout"
  (cd /var/lib/sektorbro &&
   exec setpriv --reuid=sektorbro --regid=sektorbro --init-groups --inh-caps=-all \
     /usr/bin/sektorbro --config /etc/sektorbro/sektorbro.json) \
    >"$work/stdout" 2>"$work/broker.log" &
  broker_pid=$!
  exec 3<"$work/stdout"
  # Its first line on stdout says it listens (or it exits: end of file).
  IFS= read -r -t 30 line <&3 || fail "the broker did not say it listens within 30 s"
  [[ "$line" == "listening on $url" ]] || fail "the broker said '$line'"
  [ "$(stat -c %U /proc/$broker_pid)" = sektorbro ] || fail "the broker does not run as sektorbro"
fi

say "posting the installed example letter (a LÆ125 request) to $url"
code="$(curl -sS -m 10 -o "$work/answer.xml" -w '%{http_code}' -H 'Content-Type: application/xml' \
  --data-binary @/usr/share/sektorbro/schemas/examples/certificate-request-lae125.xml \
  "$url/v1/messages")" || fail "curl"
[ "$code" = 202 ] || fail "POST answered $code: $(cat "$work/answer.xml")"
grep -q '<Acceptance' "$work/answer.xml" || fail "no Acceptance in: $(cat "$work/answer.xml")"
curl -sS -m 10 "$url/v1/messages/5790000751013/JCA-2026-0002" >"$work/message.json" ||
  fail "GET the message"
grep -q '"state": *"pending"' "$work/message.json" || fail "stored message: $(cat "$work/message.json")"
/usr/bin/sektorbro-ctl --broker "$url" health >"$work/health.txt" 2>&1 ||
  fail "sektorbro-ctl health: $(cat "$work/health.txt")"
say "202 Acceptance; the message is stored and pending for the example psychiatry's mailbox"

say "stopping it"
if systemd_running; then
  timeout 120 systemctl stop sektorbro.service || fail "systemctl stop"
  # A clean drain exits 0: systemd records Result=success (not exit-code, timeout or signal).
  result="$(systemctl show -p Result --value sektorbro.service)"
  [ "$result" = success ] || fail "the unit stopped with Result=$result"
  journalctl -u sektorbro.service --no-pager -n 200 2>/dev/null | grep -q "drained" ||
    fail "no drain in the unit's journal"
else
  kill -TERM "$broker_pid"
  timeout 60 tail --pid="$broker_pid" -f /dev/null || fail "the broker did not stop within 60 s"
  status=0
  wait "$broker_pid" || status=$?
  broker_pid=""
  exec 3<&-
  [ "$status" -eq 0 ] || fail "the broker exited with $status"
  grep -q "drained" "$work/broker.log" || fail "no drain in the broker's log"
fi
out="$(runuser -u sektorbro -- /usr/bin/sektorbro-audit verify --store /var/lib/sektorbro/sektorbro.db 2>&1)" ||
  fail "sektorbro-audit verify: $out"
say "sektorbro-audit verify: ${out%%$'\n'*}"

say "dpkg -r: binaries go, configuration and state stay"
dpkg -r sektorbro >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -r"; }
[ ! -e /usr/bin/sektorbro ] || fail "/usr/bin/sektorbro is still there"
[ -f /etc/sektorbro/sektorbro.json ] || fail "dpkg -r removed the configuration"
[ -f /var/lib/sektorbro/sektorbro.db ] || fail "dpkg -r removed the store"
say "dpkg --purge: configuration and state go"
dpkg --purge sektorbro >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg --purge"; }
installed=no
[ ! -e /etc/sektorbro ] || fail "/etc/sektorbro is still there after purge"
[ ! -e /var/lib/sektorbro ] || fail "/var/lib/sektorbro is still there after purge"
say "ok"
