#!/bin/sh
# install-deps.sh - install what a fresh Debian 12 machine lacks to build,
# test, demo and package wspulse (as root; non-interactive).
#
# Servers that were running before (postgresql, nginx, apache2) are left
# running: wspulse's demo and tests start private instances of their own
# (own data directory, sockets, ports and pid files), so they never need the
# system ones stopped.  A server that apt starts while installing it here is
# stopped again, so the machine ends as it was.
set -eu
export DEBIAN_FRONTEND=noninteractive
servers="postgresql nginx apache2"
# php-fpm serves the examples' PHP site (tests/integration/example-php.test.mjs);
# its service is named after the PHP version.
php_fpm() { (cd /etc/init.d 2>/dev/null && ls -d php*-fpm 2>/dev/null) || true; }
running() {
    if [ -d /run/systemd/system ]; then systemctl is-active --quiet "$1"
    else service "$1" status >/dev/null 2>&1; fi
}
was_running=
for svc in $servers $(php_fpm); do running "$svc" && was_running="$was_running $svc" || true; done

apt-get update -qq
# promtool (make check validates GET /metrics with it) comes only in Debian's
# prometheus package; its server was not asked for: stopped and disabled
# below unless it was installed before.
had_prometheus=$(dpkg-query -W -f='${Status}' prometheus 2>/dev/null | grep -c 'ok installed' || true)
apt-get install -y -qq --no-install-recommends \
    build-essential autoconf automake libtool pkg-config ca-certificates \
    libwebsockets-dev libjansson-dev libpq-dev libfcgi-dev libcunit1-dev \
    libssl-dev libcrypt-dev liburing-dev openssl \
    postgresql postgresql-contrib nginx libnginx-mod-nchan spawn-fcgi \
    apache2 apache2-utils libapache2-mod-fcgid \
    systemd prometheus \
    php-fpm php-pgsql python3-psycopg2 \
    chromium fonts-noto-color-emoji \
    clang libclang-rt-14-dev valgrind curl procps iproute2 \
    man-db groff-base debhelper dpkg-dev lintian >/dev/null
if [ "$had_prometheus" = 0 ]; then
    (systemctl disable --now prometheus || service prometheus stop) >/dev/null 2>&1 || true
fi

for svc in $servers $(php_fpm); do
    case " $was_running " in *" $svc "*) continue ;; esac
    if running "$svc"; then
        (systemctl stop "$svc" || service "$svc" stop) >/dev/null 2>&1 || true
    fi
done

# Node.js >= 20 and the npm packages are for the tests (`make check`) and
# the benchmarks only; `make demo` does not need them.  Node.js 20 comes with
# the machine (Debian 12's own nodejs is 18, too old for the built-in
# WebSocket the tests use).
if ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' 2>/dev/null; then
    echo "install-deps: note: Node.js >= 20 not found; skipped the tests' npm packages." >&2
    echo "install-deps: \`make demo\` works without it; \`make check\` needs it (then run this again)." >&2
    exit 0
fi
# Node packages for the browser tests and benchmarks, pinned by their
# package-lock.json (no browser download: playwright-core drives Debian's
# /usr/bin/chromium).
here=$(cd "$(dirname "$0")/.." && pwd)
for d in tests tests/bench; do
    [ -f "$here/$d/package.json" ] || continue
    (cd "$here/$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
done
