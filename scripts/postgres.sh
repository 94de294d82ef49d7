#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback, for tests and local trials of the shared store.
#   scripts/postgres.sh start DIR PORT   initialise DIR (once) and start a server on 127.0.0.1:PORT; prints its URL
#   scripts/postgres.sh stop DIR         stop it (fast shutdown)
# Uses Debian's postgresql package (install.sh installs it). PostgreSQL refuses to run as root, so as root the
# server runs as the package's `postgres` user.
set -euo pipefail
action="${1:?start or stop}"; dir="${2:?data folder}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bin/pg_ctl" ] || { echo "PostgreSQL is not installed (Debian package postgresql; ./install.sh installs it)" >&2; exit 2; }
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$action" in
  start)
    port="${3:?port}"
    mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir" -U clauseflow --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    # fsync stays on: the tests kill processes, not the server, but a shared store is only as durable as its settings
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null
    echo "postgresql://clauseflow@127.0.0.1:$port/postgres"
    ;;
  stop)
    [ -f "$dir/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
