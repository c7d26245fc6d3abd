#!/bin/sh
# wspulse-pg.sh - a private PostgreSQL cluster for `make demo` and the tests.
#
#   wspulse-pg.sh init  DIR    initdb into DIR (if DIR/PG_VERSION is missing)
#   wspulse-pg.sh start DIR    start it: unix socket in DIR only, no TCP
#   wspulse-pg.sh stop  DIR    stop it (fast shutdown)
#   wspulse-pg.sh conninfo DIR print the libpq conninfo to reach it
#
# PostgreSQL refuses to run as root, so as root the cluster belongs to and
# runs as the `postgres` user (runuser).  Local connections are trusted:
# nothing listens on TCP and the socket lives in the private DIR.
set -eu
cmd=${1:?usage: wspulse-pg.sh init|start|stop|conninfo DIR}
dir=${2:?usage: wspulse-pg.sh init|start|stop|conninfo DIR}
bindir=${PG_BINDIR:-$( (pg_config --bindir) 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
[ -x "$bindir/initdb" ] || bindir=/usr/lib/postgresql/15/bin
case $dir in /*) ;; *) dir=$(pwd)/$dir ;; esac

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $cmd in
init)
    [ -f "$dir/PG_VERSION" ] && exit 0
    [ -x "$bindir/initdb" ] || { echo "wspulse-pg: initdb not found in $bindir (apt-get install postgresql)" >&2; exit 1; }
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || { echo "wspulse-pg: no 'postgres' user (apt-get install postgresql)" >&2; exit 1; }
        chown postgres "$dir"
        if ! runuser -u postgres -- test -w "$dir"; then
            echo "wspulse-pg: user postgres cannot reach $dir; put the build tree where postgres can traverse (not under /root)" >&2
            exit 1
        fi
    fi
    chmod 700 "$dir"
    as_owner "$bindir/initdb" -D "$dir" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=reject >"$dir.initdb.log" 2>&1 ||
        { echo "wspulse-pg: initdb failed, see $dir.initdb.log" >&2; exit 1; }
    rm -f "$dir.initdb.log"
    cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = 5432
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    ;;
start)
    as_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null ||
        { echo "wspulse-pg: PostgreSQL did not start, see $dir/server.log" >&2; tail -5 "$dir/server.log" >&2; exit 1; }
    ;;
stop)
    [ -f "$dir/postmaster.pid" ] || exit 0
    as_owner "$bindir/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
    ;;
conninfo)
    echo "host=$dir port=5432 user=postgres dbname=wspulse"
    ;;
*)
    echo "wspulse-pg: unknown command $cmd" >&2; exit 2 ;;
esac
