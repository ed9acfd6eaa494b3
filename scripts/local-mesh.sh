#!/usr/bin/env bash
# local-mesh.sh: three peat-mesh-node processes on 127.0.0.1 (what `./dev run` starts).
# They share a freshly generated formation secret and find each other by static discovery.
# The script shows them connecting (GET /api/v1/peers), writes a document on node 1 through the
# broker and shows it arriving on nodes 2 and 3, prints the broker and topology page URLs, and
# stays up until Ctrl-C, which stops every node cleanly.
#
#   scripts/local-mesh.sh            interactive (Ctrl-C to stop)
#   scripts/local-mesh.sh --check    same steps, non-interactive, time-limited; exit 0 or 1
#
# Environment: PEAT_NODE_BIN (the binary; default: build/dev's, else the newest
# build/*/apps/peat-mesh-node/peat-mesh-node), PEAT_LOCAL_MESH_PORT (first port; default random), PEAT_CHECK_SECONDS (time
# limit of each wait in --check mode; default 20).
set -euo pipefail

CHECK=0
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "local-mesh.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${PEAT_NODE_BIN:-}"
if [ -z "$BIN" ] && [ -x "$ROOT/build/dev/apps/peat-mesh-node/peat-mesh-node" ]; then
  BIN="$ROOT/build/dev/apps/peat-mesh-node/peat-mesh-node"  # what `./dev run` just built
fi
if [ -z "$BIN" ]; then
  BIN="$(ls -t "$ROOT"/build/*/apps/peat-mesh-node/peat-mesh-node 2>/dev/null | head -1 || true)"
fi
if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
  echo "local-mesh.sh: peat-mesh-node not found; build it (./dev build) or set PEAT_NODE_BIN" >&2
  exit 1
fi

LIMIT="${PEAT_CHECK_SECONDS:-20}"
BASE="${PEAT_LOCAL_MESH_PORT:-$((20000 + RANDOM % 20000))}"
WORK="$(mktemp -d /tmp/peat-local-mesh.XXXXXX)"
SECRET="$(head -c 32 /dev/urandom | base64)"
PIDS=()
N=3

quic_port() { echo $((BASE + $1)); }
broker_port() { echo $((BASE + 10 + $1)); }
lite_port() { echo $((BASE + 20 + $1)); }
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# http METHOD PORT PATH [BODY]: prints the response body (curl if present, else bash /dev/tcp).
http() {
  local method="$1" port="$2" path="$3" body="${4:-}"
  if command -v curl >/dev/null 2>&1; then
    curl -s -m 5 -X "$method" ${body:+-H 'Content-Type: application/json' --data "$body"} \
      "http://127.0.0.1:$port$path" || true
  else
    timeout 5 bash -c '
      exec 3<>/dev/tcp/127.0.0.1/'"$port"' || exit 0
      printf "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" \
        "'"$method"'" "'"$path"'" "${#1}" "$1" >&3
      sed "1,/^\r\{0,1\}$/d" <&3' _ "$body" || true
  fi
}

stop_all() {
  local status=0
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    # Each node must exit 0 within 10 s of SIGTERM.
    local waited=0
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
      echo "node pid $pid did not stop within 10 s" >&2
      kill -KILL "$pid" 2>/dev/null || true
      status=1
    fi
    wait "$pid" 2>/dev/null || { echo "node pid $pid exited with status $?" >&2; status=1; }
  done
  PIDS=()
  return $status
}

cleanup() {
  stop_all || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo; say "stopping"; stop_all && echo "all nodes stopped cleanly"; exit 0' INT TERM

# ---- configuration and start -----------------------------------------------------------------
for i in $(seq 1 $N); do
  : > "$WORK/peers-$i.toml"
  for j in $(seq 1 $N); do
    [ "$i" = "$j" ] && continue
    printf '[[peers]]\nnode_id = "node-%s"\naddresses = ["127.0.0.1:%s"]\n\n' "$j" "$(quic_port "$j")" \
      >> "$WORK/peers-$i.toml"
  done
done

say "starting $N nodes in $WORK (binary $BIN)"
for i in $(seq 1 $N); do
  PEAT_FORMATION_SECRET="$SECRET" HOSTNAME="node-$i" PEAT_DISCOVERY=static \
    PEAT_STATIC_PEERS="$WORK/peers-$i.toml" PEAT_DATA_DIR="$WORK/data-$i" \
    PEAT_IROH_BIND_PORT="$(quic_port "$i")" PEAT_BROKER_PORT="$(broker_port "$i")" \
    PEAT_LITE_PORT="$(lite_port "$i")" \
    "$BIN" --bind-host 127.0.0.1 --broker-bind 127.0.0.1 \
    >"$WORK/node-$i.out" 2>"$WORK/node-$i.log" &
  PIDS+=($!)
done

fail() {
  echo "local-mesh.sh: FAILED: $*" >&2
  for i in $(seq 1 $N); do echo "--- node-$i log (last 15 lines)" >&2; tail -15 "$WORK/node-$i.log" >&2; done
  exit 1
}

# wait_for DESCRIPTION COMMAND...: retries the command every 0.25 s for at most LIMIT seconds.
wait_for() {
  local what="$1"; shift
  local tries=$((LIMIT * 4))
  for _ in $(seq 1 $tries); do
    if "$@"; then return 0; fi
    sleep 0.25
  done
  fail "$what (waited ${LIMIT} s)"
}

healthy() { http GET "$(broker_port "$1")" /api/v1/health | grep -q '"status":"healthy"'; }
peer_count_is() { http GET "$(broker_port "$1")" /api/v1/peers | grep -q "\"count\":$2"; }
has_doc() { http GET "$(broker_port "$1")" /api/v1/documents/notes/hello | grep -q "$2"; }
doc_gone() { http GET "$(broker_port "$1")" /api/v1/documents/notes/hello | grep -q 'document not found'; }

for i in $(seq 1 $N); do
  wait_for "node-$i broker answers /api/v1/health" healthy "$i"
  echo "node-$i: $(head -3 "$WORK/node-$i.out" | tr -s ' ' | paste -sd' ')"
done

say "waiting for the nodes to discover and connect to each other"
for i in $(seq 1 $N); do
  wait_for "node-$i connected to $((N - 1)) peers" peer_count_is "$i" $((N - 1))
  echo "node-$i GET /api/v1/peers -> $(http GET "$(broker_port "$i")" /api/v1/peers)"
done

SYNC=1
if ! http GET "$(broker_port 1)" /metrics | grep -q '^peat_mesh_sync_enabled 1'; then SYNC=0; fi

say "writing a document on node-1 through its broker"
STAMP="$(date +%s%N)"
echo "PUT /api/v1/documents/notes/hello -> $(http PUT "$(broker_port 1)" /api/v1/documents/notes/hello \
  "{\"text\":\"hello from node-1\",\"stamp\":\"$STAMP\"}")"
if [ $SYNC = 1 ]; then
  for i in $(seq 2 $N); do
    wait_for "the document reached node-$i" has_doc "$i" "$STAMP"
    echo "node-$i GET /api/v1/documents/notes/hello -> $(http GET "$(broker_port "$i")" /api/v1/documents/notes/hello)"
  done
  say "deleting it on node-2; the tombstone reaches the others"
  echo "DELETE on node-2 -> $(http DELETE "$(broker_port 2)" /api/v1/documents/notes/hello)"
  for i in 1 3; do wait_for "the delete reached node-$i" doc_gone "$i"; done
  echo "node-1 and node-3 no longer have it"
else
  echo "this build has no mesh sync engine: the document stays on node-1 (not checked on the others)"
  [ $CHECK = 1 ] && fail "sync engine missing from the node build"
fi

say "the mesh is up"
for i in $(seq 1 $N); do
  echo "  node-$i  broker http://127.0.0.1:$(broker_port "$i")/api/v1   topology page http://127.0.0.1:$(broker_port "$i")/topology   metrics http://127.0.0.1:$(broker_port "$i")/metrics"
done
echo "  logs in $WORK/node-*.log"

if [ $CHECK = 1 ]; then
  say "stopping (SIGTERM)"
  stop_all || fail "a node did not stop cleanly"
  for i in $(seq 1 $N); do
    grep -q "peat-mesh-node stopped" "$WORK/node-$i.log" || fail "node-$i did not log its clean stop"
  done
  echo "local-mesh check: passed"
  exit 0
fi

echo "Ctrl-C stops all nodes."
while true; do
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "node pid $pid exited unexpectedly" >&2; exit 1; }
  done
  sleep 1
done
