#!/usr/bin/env bash
# End-to-end checks of the peat-mesh-node binary on loopback: bad configuration exits with one
# clear line, SIGTERM stops a running node cleanly (exit 0, within 10 s), flags override env.
# mdns: two nodes find each other by mDNS inside a network namespace the test creates (only its
# loopback, multicast on), connect, and sync a document; skipped (77) without root/ip netns.
# blobs: two nodes on 127.0.0.1 (static discovery); a 1 MiB blob posted to one node's broker is
# fetched by the other by hash and served back identical; the stopped node is seen leaving.
# Usage: node_e2e.sh <peat-mesh-node> <case>   (case: bad-config | sigterm | flags | mdns | blobs)
set -uo pipefail
BIN="$1"
CASE="$2"
WORK="$(mktemp -d /tmp/peat-node-e2e.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
SECRET="$(head -c 32 /dev/urandom | base64)"
failures=0
passes=0
check() {  # check DESCRIPTION COMMAND...
  local what="$1"; shift
  if "$@"; then passes=$((passes + 1)); else failures=$((failures + 1)); echo "FAIL: $what" >&2; fi
}

# expect_config_error NAME EXPECTED_SUBSTRING ENV... -- ARGS...: exit status 2, one line on
# stderr that contains the substring and no stack trace.
expect_config_error() {
  local name="$1" expected="$2"; shift 2
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  env -i PATH="$PATH" "${envs[@]}" timeout 10 "$BIN" "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  check "$name: exit status 2 (got $rc)" [ $rc -eq 2 ]
  check "$name: one stderr line (got $(wc -l <"$WORK/err"))" [ "$(wc -l <"$WORK/err")" -eq 1 ]
  check "$name: message has '$expected': $(cat "$WORK/err")" grep -qF -- "$expected" "$WORK/err"
}

free_port() { echo $((20000 + RANDOM % 30000)); }

case "$CASE" in
  bad-config)
    expect_config_error "no secret" "PEAT_FORMATION_SECRET is required" --
    expect_config_error "bad base64" "PEAT_FORMATION_SECRET" PEAT_FORMATION_SECRET='%%%' --
    expect_config_error "unknown discovery" "Unknown PEAT_DISCOVERY mode" \
      PEAT_FORMATION_SECRET="$SECRET" PEAT_DISCOVERY=carrier-pigeon --
    expect_config_error "static without file" "PEAT_STATIC_PEERS" \
      PEAT_FORMATION_SECRET="$SECRET" PEAT_DISCOVERY=static --
    expect_config_error "authority key length" "PEAT_AUTHORITY_KEY" \
      PEAT_FORMATION_SECRET="$SECRET" PEAT_AUTHORITY_KEY=abcd --
    expect_config_error "port out of range" "--broker-port" \
      PEAT_FORMATION_SECRET="$SECRET" -- --broker-port 70000
    expect_config_error "bad hostname" "node id" \
      PEAT_FORMATION_SECRET="$SECRET" HOSTNAME="bad name" PEAT_DISCOVERY=mdns --
    expect_config_error "log format" "log format" \
      PEAT_FORMATION_SECRET="$SECRET" PEAT_DISCOVERY=mdns -- --log-format xml
    expect_config_error "lite port" "PEAT_LITE_PORT" \
      PEAT_FORMATION_SECRET="$SECRET" PEAT_DISCOVERY=none PEAT_LITE_PORT=abc --
    expect_config_error "blob profile" "blob profile" \
      PEAT_FORMATION_SECRET="$SECRET" PEAT_DISCOVERY=none -- --blob-profile fast
    expect_config_error "storage budget" "PEAT_STORAGE_MAX_BYTES" \
      PEAT_FORMATION_SECRET="$SECRET" PEAT_DISCOVERY=none PEAT_STORAGE_MAX_BYTES=12X --
    expect_config_error "bad parent" "parent 'bad name'" \
      PEAT_FORMATION_SECRET="$SECRET" PEAT_DISCOVERY=none PEAT_PARENT="bad name" --
    expect_config_error "parent is itself" "is this node itself" \
      PEAT_FORMATION_SECRET="$SECRET" PEAT_DISCOVERY=none HOSTNAME=n1 -- --parent n1
    env -i PATH="$PATH" "$BIN" --help >"$WORK/help" 2>&1
    check "--help exits 0" [ $? -eq 0 ]
    check "--help lists env vars" grep -q PEAT_IROH_BIND_PORT "$WORK/help"
    ;;
  sigterm|flags)
    BPORT=$(free_port)
    QPORT=$((BPORT + 1))
    # Env says one broker port, the flag another: the flag wins. Same for the parent (flags).
    PARENT_ENV=() PARENT_ARGS=()
    if [ "$CASE" = flags ]; then PARENT_ENV=(PEAT_PARENT=env-parent) PARENT_ARGS=(--parent e2e-parent); fi
    env -i PATH="$PATH" PEAT_FORMATION_SECRET="$SECRET" HOSTNAME=e2e-node PEAT_DISCOVERY=none \
      PEAT_DATA_DIR="$WORK/data" PEAT_BROKER_PORT=1 PEAT_IROH_BIND_PORT="$QPORT" PEAT_LITE_PORT=0 \
      PEAT_STORAGE_MAX_BYTES=64M "${PARENT_ENV[@]}" \
      "$BIN" --broker-port "$BPORT" --bind-host 127.0.0.1 --broker-bind 127.0.0.1 \
      --log-format json "${PARENT_ARGS[@]}" >"$WORK/out" 2>"$WORK/log" &
    PID=$!
    up=0
    for _ in $(seq 1 80); do
      if (exec 3<>/dev/tcp/127.0.0.1/$BPORT) 2>/dev/null; then up=1; break; fi
      sleep 0.25
    done
    check "broker listens on the --broker-port port" [ $up -eq 1 ]
    check "identity printed" grep -q '^device_id: ' "$WORK/out"
    if [ "$CASE" = flags ]; then
      check "JSON log lines" grep -q '"msg":"Mesh started' "$WORK/log"
      check "every log line is JSON" bash -c "! grep -v '^{' '$WORK/log'"
      check "Lite bridge up (PEAT_LITE_PORT=0: any port)" grep -q 'Peat-Lite bridge listening on UDP 127.0.0.1:' "$WORK/log"
      check "OTA signing key logged" grep -Eq 'OTA signing public key [0-9a-f]{64}' "$WORK/log"
      check "blob service up" grep -q 'blob service ready' "$WORK/log"
      check "QoS storage guard up (PEAT_STORAGE_MAX_BYTES=64M)" grep -q 'QoS storage guard started max_bytes=67108864' "$WORK/log"
      # A blob through the broker: POST the bytes, GET them back by hash.
      posted=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0
        printf "POST /api/v1/blobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 11\r\n\r\nhello blobs" >&3
        cat <&3' "$BPORT" 2>/dev/null)
      check "POST /api/v1/blobs: 201" grep -q "HTTP/1.1 201" <<<"$posted"
      hash=$(grep -o '"hash":"[0-9a-f]*"' <<<"$posted" | cut -d'"' -f4)
      check "hash is the SHA-256 of the bytes" [ "$hash" = "$(printf 'hello blobs' | sha256sum | cut -d' ' -f1)" ]
      got=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0
        printf "GET /api/v1/blobs/$1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3
        cat <&3' "$BPORT" "$hash" 2>/dev/null)
      check "GET /api/v1/blobs/<hash> returns the bytes" grep -q "hello blobs" <<<"$got"
      # Hierarchy: --parent wins over PEAT_PARENT; a node with a parent is a leaf at once.
      check "hierarchy logged (--parent wins)" grep -q 'hierarchy role=leaf parent=e2e-parent' "$WORK/log"
      topo=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0
        printf "GET /api/v1/topology HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3
        cat <&3' "$BPORT" 2>/dev/null)
      check "topology: role leaf" grep -q '"role":"leaf"' <<<"$topo"
      check "topology: parent" grep -q '"parent":"e2e-parent"' <<<"$topo"
    fi
    kill -TERM $PID
    waited=0
    while kill -0 $PID 2>/dev/null && [ $waited -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
    if kill -0 $PID 2>/dev/null; then kill -KILL $PID; fi
    wait $PID
    rc=$?
    check "SIGTERM: exit status 0 (got $rc)" [ $rc -eq 0 ]
    check "SIGTERM: stopped within 10 s" [ $waited -lt 100 ]
    check "SIGTERM: logs the clean stop" grep -q 'peat-mesh-node stopped' "$WORK/log"
    ;;
  mdns)
    NS="peat-e2e-$$"
    if ! ip netns add "$NS" 2>/dev/null; then echo "SKIP: cannot create a network namespace"; exit 77; fi
    trap 'for p in $(cat "$WORK"/pid-* 2>/dev/null); do kill -KILL $p 2>/dev/null; done; ip netns del "$NS" 2>/dev/null; rm -rf "$WORK"' EXIT
    ip -n "$NS" link set lo up
    ip -n "$NS" link set lo multicast on
    ip -n "$NS" route add 224.0.0.0/4 dev lo
    # get PORT METHOD PATH [BODY]: HTTP/1.1 over bash /dev/tcp inside the namespace.
    req() {
      ip netns exec "$NS" timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0 || exit 0
        printf "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" "$1" "$2" "${#3}" "$3" >&3
        cat <&3' "$@" 2>/dev/null
    }
    for i in 1 2; do
      ip netns exec "$NS" env -i PATH="$PATH" PEAT_FORMATION_SECRET="$SECRET" HOSTNAME="mdns-$i" \
        PEAT_DISCOVERY=mdns PEAT_DATA_DIR="$WORK/data-$i" PEAT_IROH_BIND_PORT=$((11300 + i)) \
        PEAT_BROKER_PORT=$((18300 + i)) "$BIN" >"$WORK/out-$i" 2>"$WORK/log-$i" &
      echo $! >"$WORK/pid-$i"
    done
    ok=0
    for _ in $(seq 1 80); do
      if req 18301 GET /api/v1/peers | grep -q '"id":"mdns-2"'; then ok=1; break; fi
      sleep 0.25
    done
    check "mdns-1 connected to mdns-2 found by mDNS" [ $ok -eq 1 ]
    req 18301 PUT /api/v1/documents/notes/m '{"via":"mdns"}' >/dev/null
    ok=0
    for _ in $(seq 1 80); do
      if req 18302 GET /api/v1/documents/notes/m | grep -q '"via":"mdns"'; then ok=1; break; fi
      sleep 0.25
    done
    check "document written on mdns-1 arrived on mdns-2" [ $ok -eq 1 ]
    for i in 1 2; do kill -TERM "$(cat "$WORK/pid-$i")"; done
    for i in 1 2; do
      wait "$(cat "$WORK/pid-$i")"
      rc=$?
      check "mdns-$i exit status 0 after SIGTERM (got $rc)" [ $rc -eq 0 ]
    done
    [ $failures -eq 0 ] || tail -20 "$WORK"/log-* >&2
    ;;
  blobs)
    BASE=$(free_port)
    trap 'for p in $(cat "$WORK"/pid-* 2>/dev/null); do kill -KILL $p 2>/dev/null; done; rm -rf "$WORK"' EXIT
    # http PORT METHOD PATH [BODY_FILE]: one request over bash /dev/tcp; the raw reply on stdout.
    http() {
      timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0 || exit 0
        len=0; [ -n "$3" ] && len=$(stat -c %s "$3")
        printf "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" "$1" "$2" "$len" >&3
        [ -n "$3" ] && cat "$3" >&3
        cat <&3' "$@" 2>/dev/null
    }
    for i in a b; do
      other=b; [ $i = b ] && other=a
      port=$BASE; [ $other = b ] && port=$((BASE + 1))
      printf '[[peers]]\nnode_id = "e2e-%s"\naddresses = ["127.0.0.1:%s"]\n' "$other" "$port" >"$WORK/peers-$i.toml"
    done
    for i in a b; do
      n=0; [ $i = b ] && n=1
      env -i PATH="$PATH" PEAT_FORMATION_SECRET="$SECRET" HOSTNAME="e2e-$i" PEAT_DISCOVERY=static \
        PEAT_STATIC_PEERS="$WORK/peers-$i.toml" PEAT_DATA_DIR="$WORK/data-$i" PEAT_LITE_PORT=off \
        PEAT_IROH_BIND_PORT=$((BASE + n)) PEAT_BROKER_PORT=$((BASE + 2 + n)) \
        "$BIN" --bind-host 127.0.0.1 --broker-bind 127.0.0.1 >"$WORK/out-$i" 2>"$WORK/log-$i" &
      echo $! >"$WORK/pid-$i"
    done
    ok=0
    for _ in $(seq 1 80); do
      if http $((BASE + 3)) GET /api/v1/peers | grep -q '"id":"e2e-a"'; then ok=1; break; fi
      sleep 0.25
    done
    check "e2e-b connected to e2e-a" [ $ok -eq 1 ]
    head -c 1048576 /dev/urandom >"$WORK/blob.bin"
    want=$(sha256sum "$WORK/blob.bin" | cut -d' ' -f1)
    posted=$(http $((BASE + 2)) POST /api/v1/blobs "$WORK/blob.bin")
    check "POST /api/v1/blobs on e2e-a: 201" grep -q "HTTP/1.1 201" <<<"$posted"
    check "hash = SHA-256 of the bytes" grep -q "\"hash\":\"$want\"" <<<"$posted"
    printf '{"peer":"e2e-a"}' >"$WORK/fetch.json"
    fetched=$(http $((BASE + 3)) POST "/api/v1/blobs/$want/fetch" "$WORK/fetch.json")
    check "fetch on e2e-b: 202 or 200" grep -Eq "HTTP/1.1 20[02]" <<<"$fetched"
    ok=0
    for _ in $(seq 1 80); do
      if http $((BASE + 3)) GET "/api/v1/blobs/$want/status" | grep -q '"state":"complete"'; then ok=1; break; fi
      sleep 0.25
    done
    check "e2e-b: fetch complete" [ $ok -eq 1 ]
    http $((BASE + 3)) GET "/api/v1/blobs/$want" >"$WORK/got"
    got=$(tail -c 1048576 "$WORK/got" | sha256sum | cut -d' ' -f1)
    check "e2e-b serves the same bytes" [ "$got" = "$want" ]
    kill -TERM "$(cat "$WORK/pid-b")"
    wait "$(cat "$WORK/pid-b")"
    check "e2e-b exit status 0 after SIGTERM" [ $? -eq 0 ]
    ok=0
    for _ in $(seq 1 40); do
      if grep -q 'Peer disconnected node_id=e2e-b reason=remote closed' "$WORK/log-a"; then ok=1; break; fi
      sleep 0.1
    done
    check "e2e-a saw e2e-b leave (remote closed)" [ $ok -eq 1 ]
    kill -TERM "$(cat "$WORK/pid-a")"
    wait "$(cat "$WORK/pid-a")"
    check "e2e-a exit status 0 after SIGTERM" [ $? -eq 0 ]
    [ $failures -eq 0 ] || tail -20 "$WORK"/log-* >&2
    ;;
  *) echo "unknown case $CASE" >&2; exit 2 ;;
esac
echo "node_e2e $CASE: $passes passed, $failures failed"
[ $failures -eq 0 ]
