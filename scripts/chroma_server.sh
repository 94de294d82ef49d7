#!/usr/bin/env bash
# A Chroma server behind a token, for tests and trials of the shared clause store.
#   scripts/chroma_server.sh start DIR PORT   Chroma on a loopback port of its own (data in DIR/data) and the token
#                                            gate (clause_library/chroma_gate.py) on CHROMA_GATE_HOST:PORT (default
#                                            127.0.0.1); a fresh token in DIR/token (mode 600); prints
#                                            CLAUSEFLOW_CHROMA_URL=… and CLAUSEFLOW_CHROMA_TOKEN=… for `export`
#   scripts/chroma_server.sh stop DIR         stop both
# The chromadb 1.x server has no authentication of its own: only the gate is reachable from other machines.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$here/.venv/bin/python}"
chroma="$(dirname "$python")/chroma"
action="${1:?start or stop}"; dir="${2:?server folder}"
case "$action" in
  start)
    port="${3:?port}"
    [[ "$port" =~ ^[0-9]+$ ]] || { echo "the port must be a number, not '$port'" >&2; exit 2; }
    mkdir -p "$dir/data"; chmod 700 "$dir"
    [ -f "$dir/token" ] || (umask 077; "$python" -c 'import secrets; print(secrets.token_hex(32))' > "$dir/token")
    inner="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    nohup "$chroma" run --path "$dir/data" --host 127.0.0.1 --port "$inner" >"$dir/chroma.log" 2>&1 &
    echo $! > "$dir/chroma.pid"
    (cd "$here" && exec nohup "$python" -m clause_library.chroma_gate --listen "${CHROMA_GATE_HOST:-127.0.0.1}:$port" \
      --upstream "http://127.0.0.1:$inner" --token-file "$dir/token") >"$dir/gate.log" 2>&1 &
    echo $! > "$dir/gate.pid"
    for _ in $(seq 150); do  # up when the gate answers and Chroma behind it does too
      code="$("$python" - "$port" "$dir/token" <<'PY' 2>/dev/null || true
import sys, urllib.request
request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/api/v2/heartbeat",
                                 headers={"X-Chroma-Token": open(sys.argv[2]).read().strip()})
try:
    print(urllib.request.urlopen(request, timeout=2).status)
except Exception as error:
    print(getattr(error, "code", 0))
PY
)"
      [ "$code" = 200 ] && break
      kill -0 "$(cat "$dir/gate.pid")" 2>/dev/null && kill -0 "$(cat "$dir/chroma.pid")" 2>/dev/null || break
      sleep 0.2
    done
    [ "$code" = 200 ] || { echo "Chroma did not start: $(tail -1 "$dir/chroma.log") $(tail -1 "$dir/gate.log")" >&2; "$0" stop "$dir"; exit 1; }
    printf 'CLAUSEFLOW_CHROMA_URL=http://127.0.0.1:%s\nCLAUSEFLOW_CHROMA_TOKEN=%s\n' "$port" "$(cat "$dir/token")"
    ;;
  stop)
    for name in gate chroma; do
      [ -f "$dir/$name.pid" ] || continue
      pid="$(cat "$dir/$name.pid")"; kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true; rm -f "$dir/$name.pid"
    done
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
