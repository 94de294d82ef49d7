#!/usr/bin/env bash
# A Ray cluster on this machine for tests and trials: a head and one more worker node, one CPU each.
#   scripts/ray_cluster.sh start PORT   start both; prints the address for `app.py batch --engine ray --address`
#   scripts/ray_cluster.sh stop         stop every Ray process of this user on this machine
# RAY names the `ray` command (default: the project's .venv). On real hardware run `ray start --head` on one machine
# and `ray start --address=HEAD:PORT` on each of the others, with the project installed at the same path on each.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
ray="${RAY:-$here/.venv/bin/ray}"
export RAY_USAGE_STATS_ENABLED=0
# A loopback cluster for tests and trials: no token authentication, whatever ~/.ray/auth_token a previous Ray left
# behind. A real cluster should run with RAY_AUTH_MODE=token and the token on every node (and the driver).
export RAY_AUTH_MODE="${RAY_AUTH_MODE:-disabled}"
case "${1:?start or stop}" in
  start)
    port="${2:?port}"
    common=(--num-cpus=1 --object-store-memory=300000000 --disable-usage-stats)
    "$ray" start --head --port="$port" --include-dashboard=false "${common[@]}" >/dev/null
    "$ray" start --address="127.0.0.1:$port" "${common[@]}" >/dev/null
    echo "127.0.0.1:$port"
    ;;
  stop)
    "$ray" stop --force >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start PORT | stop" >&2; exit 2 ;;
esac
