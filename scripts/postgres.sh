#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback, for tests and local trials of the shared store, set up with least privilege.
#   scripts/postgres.sh start DIR PORT   initialise DIR (once) and start a server on 127.0.0.1:PORT; prints two lines,
#                                        CLAUSEFLOW_DATABASE_OWNER_URL=… and CLAUSEFLOW_DATABASE_URL=…, for `export`
#   scripts/postgres.sh stop DIR         stop it (fast shutdown)
# Three roles: the bootstrap superuser (reached only through the server's socket in DIR, by the OS user running it),
# `clauseflow_owner`, who owns the database `clauseflow` and runs migrations (`app.py db migrate`), and `clauseflow`,
# the application's role: no superuser, owns nothing, so it cannot alter, disable triggers on, truncate or drop the
# tables; `db migrate` grants it only the reads and writes the application makes. Over TCP each role needs its
# password (SCRAM); the passwords are made at initialisation and kept in DIR/clauseflow.env (mode 600).
# Uses Debian's postgresql package (install.sh installs it). PostgreSQL refuses to run as root, so as root the
# server runs as the package's `postgres` user.
set -euo pipefail
action="${1:?start or stop}"; dir="${2:?data folder}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bin/pg_ctl" ] || { echo "PostgreSQL is not installed (Debian package postgresql; ./install.sh installs it)" >&2; exit 2; }
as_server_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
secret() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
case "$action" in
  start)
    port="${3:?port}"
    [[ "$port" =~ ^[0-9]+$ ]] || { echo "the port must be a number, not '$port'" >&2; exit 2; }
    mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    new=0
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_server_user "$bin/initdb" -D "$dir" -U clauseflow_admin --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >/dev/null
      new=1
    fi
    # fsync stays on: the tests kill processes, not the server, but a shared store is only as durable as its settings
    as_server_user "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null
    env_file="$dir/clauseflow.env"
    if [ "$new" = 1 ]; then
      owner_pw="$(secret)"; app_pw="$(secret)"
      as_server_user "$bin/psql" -h "$dir" -p "$port" -U clauseflow_admin -d postgres -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE ROLE clauseflow_owner LOGIN CREATEDB PASSWORD '$owner_pw';
CREATE ROLE clauseflow LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$app_pw';
CREATE DATABASE clauseflow OWNER clauseflow_owner;
REVOKE ALL ON DATABASE clauseflow FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE clauseflow TO clauseflow;
SQL
      umask 077
      printf 'CLAUSEFLOW_DATABASE_OWNER_URL=postgresql://clauseflow_owner:%s@127.0.0.1:%s/clauseflow\nCLAUSEFLOW_DATABASE_URL=postgresql://clauseflow:%s@127.0.0.1:%s/clauseflow\n' \
        "$owner_pw" "$port" "$app_pw" "$port" > "$env_file.tmp"
      mv "$env_file.tmp" "$env_file"
    fi
    # the URLs name the port this start used
    sed -E "s#@127\.0\.0\.1:[0-9]+/#@127.0.0.1:$port/#" "$env_file"
    ;;
  stop)
    [ -f "$dir/postmaster.pid" ] && as_server_user "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
