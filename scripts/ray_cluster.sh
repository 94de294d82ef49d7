#!/usr/bin/env bash
# A Ray cluster on this machine for tests and trials: a head and one more worker node, one CPU each, with token
# authentication.
#   scripts/ray_cluster.sh start DIR PORT  start both (head's GCS on PORT); a fresh token in DIR/auth_token (mode 600);
#                                         prints CLAUSEFLOW_RAY_ADDRESS=…, RAY_AUTH_MODE=token and RAY_AUTH_TOKEN_PATH=…
#                                         for `export` (the machine that runs `app.py batch --engine ray` needs the last two)
#   scripts/ray_cluster.sh add-node DIR    one more worker node (one CPU) on the same cluster; prints its process group
#   scripts/ray_cluster.sh stop DIR        stop this cluster's processes, and only those: another Ray of the same user
#                                         on this machine keeps running
# Ray's servers listen beyond loopback whatever the node address (this Ray's GCS and raylets bind every interface), so
# the token is what keeps the network out: without it no client, driver or node is accepted. Nodes advertise
# 127.0.0.1. RAY names the `ray` command (default: the project's .venv). On real hardware: the same token on every
# machine (RAY_AUTH_MODE=token, RAY_AUTH_TOKEN_PATH), `ray start --head` on one and `ray start --address=HEAD:PORT` on
# the others, with the project installed at the same path on each (docs/scale.md).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
ray="${RAY:-$here/.venv/bin/ray}"
python="$(dirname "$ray")/python"
export RAY_USAGE_STATS_ENABLED=0
action="${1:?start, add-node or stop}"; dir="${2:?cluster folder}"
export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$dir/auth_token"

free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# this cluster's processes: those naming its session folder under DIR/tmp, its client server, and their descendants
cluster_pids() {
  local roots
  roots="$( { pgrep -f -- "$dir/tmp/" || true
              [ -f "$dir/client_port" ] && pgrep -f -- "ray.util.client.server.*--port=$(cat "$dir/client_port")( |$)" || true
            } | sort -u)"
  [ -n "$roots" ] || return 0
  ps -e -o pid=,ppid= | awk -v roots="$roots" -v self="$$" '
    BEGIN { n = split(roots, r, "\n"); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    { parent[$1] = $2 }
    END { do { grown = 0; for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; grown = 1 } } while (grown)
          for (p in keep) if (p != self && (p in parent)) print p }'
}
start_node() {  # a worker node: one CPU, worker ports clear of the head's port
  "$ray" start --address="127.0.0.1:$(cat "$dir/port")" --node-ip-address=127.0.0.1 "${common[@]}" >>"$dir/start.log" 2>&1
}
case "$action" in
  start)
    port="${3:?port}"
    [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1024 ] && [ "$port" -le 65535 ] \
      || { echo "the port must be a number from 1024 to 65535, not '$port'" >&2; exit 2; }
    mkdir -p "$dir"; chmod 700 "$dir"
    [ -e "$dir/port" ] && { echo "$dir already holds a cluster; stop it first" >&2; exit 2; }
    (umask 077; "$python" -c 'import secrets; print(secrets.token_hex(32))' > "$dir/auth_token")
    echo "$port" > "$dir/port"; free_port > "$dir/client_port"
    ;;&
  start|add-node)
    [ -f "$dir/port" ] || { echo "no cluster was started in $dir" >&2; exit 2; }
    port="$(cat "$dir/port")"
    # Ray's worker ports default to 10002-19999: a head port in that range would collide with them
    if [ "$port" -ge 10002 ] && [ "$port" -le 19999 ]; then workers=(--min-worker-port=20002 --max-worker-port=29999)
    else workers=(--min-worker-port=10002 --max-worker-port=19999); fi
    common=(--num-cpus=1 --object-store-memory=300000000 --disable-usage-stats "${workers[@]}")
    ;;&
  start)
    if ! "$ray" start --head --port="$port" --node-ip-address=127.0.0.1 --temp-dir="$dir/tmp" --include-dashboard=false \
        --ray-client-server-port="$(cat "$dir/client_port")" "${common[@]}" >"$dir/start.log" 2>&1 || ! start_node; then
      echo "Ray did not start: $(grep -m1 -E 'Error|error' "$dir/start.log" || tail -1 "$dir/start.log")" >&2
      "$0" stop "$dir"; exit 1
    fi
    printf 'CLAUSEFLOW_RAY_ADDRESS=127.0.0.1:%s\nRAY_AUTH_MODE=token\nRAY_AUTH_TOKEN_PATH=%s\n' "$port" "$dir/auth_token"
    ;;
  add-node)  # prints the new node's raylet pid (a test kills it to lose the node)
    before="$(pgrep -f -- "raylet/raylet .*$dir/tmp/" | sort || true)"
    start_node || { echo "the node did not start: $(tail -1 "$dir/start.log")" >&2; exit 1; }
    comm -13 <(echo "$before") <(pgrep -f -- "raylet/raylet .*$dir/tmp/" | sort) | head -1
    ;;
  stop)
    [ -d "$dir" ] || exit 0
    pids="$(cluster_pids)"
    [ -n "$pids" ] && kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 10); do [ -z "$(cluster_pids)" ] && break; sleep 0.2; done  # then SIGKILL, as `ray stop --force`
    pids="$(cluster_pids)"
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
    rm -f "$dir/port" "$dir/client_port"
    ;;
  *) echo "usage: $0 start DIR PORT | add-node DIR | stop DIR" >&2; exit 2 ;;
esac
