#!/bin/sh
# install-deps.sh - install what a fresh Debian 12 machine lacks to build,
# test and demo wspulse (as root; non-interactive).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# promtool (make check validates GET /metrics with it) comes only in Debian's
# prometheus package; its server was not asked for: stopped and disabled
# below unless it was installed before.
had_prometheus=$(dpkg-query -W -f='${Status}' prometheus 2>/dev/null | grep -c 'ok installed' || true)
apt-get install -y -qq --no-install-recommends \
    build-essential autoconf automake libtool pkg-config ca-certificates \
    libwebsockets-dev libjansson-dev libpq-dev libfcgi-dev libcunit1-dev \
    libssl-dev libcrypt-dev openssl \
    postgresql postgresql-contrib nginx libnginx-mod-nchan spawn-fcgi \
    apache2 libapache2-mod-fcgid \
    systemd prometheus \
    chromium fonts-noto-color-emoji \
    clang libclang-rt-14-dev valgrind curl procps iproute2 >/dev/null
if [ "$had_prometheus" = 0 ]; then
    (systemctl disable --now prometheus || service prometheus stop) >/dev/null 2>&1 || true
fi
# Node.js 20 comes with the machine (Debian 12's own nodejs is 18, too old
# for the built-in WebSocket the tests use); say so if it is missing.
node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null ||
    { echo "install-deps: Node.js >= 20 is required (node/npm not found or too old)" >&2; exit 1; }
# Debian starts the packaged servers; wspulse runs its own private ones.
for svc in postgresql nginx apache2; do
    (systemctl stop "$svc" || service "$svc" stop) >/dev/null 2>&1 || true
done
# Node packages for the browser tests and benchmarks, pinned by their
# package-lock.json (no browser download: playwright-core drives Debian's
# /usr/bin/chromium).
here=$(cd "$(dirname "$0")/.." && pwd)
for d in tests tests/bench; do
    [ -f "$here/$d/package.json" ] || continue
    (cd "$here/$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
done
