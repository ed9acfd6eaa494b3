#!/usr/bin/env bash
# End-to-end certificates with real processes on loopback (docs/certificates.md): node alpha
# serves enrollment (one-time tokens) and requires certificates; `peat-mesh enroll` gets
# certificates over QUIC for alpha itself and for bravo; bravo joins with its certificate and
# both admit each other; a reused token is denied with the reason; charlie, without a
# certificate, is refused by alpha with a clear log line; `peat-mesh revoke` signs a revocation
# of bravo, written through bravo's own broker, and once it syncs to alpha, alpha cuts bravo
# off. Every wait is bounded.
# Usage: certificates_e2e.sh <peat-mesh-node> <peat-mesh>
set -uo pipefail
NODE="$1"
CLI="$2"
WORK="$(mktemp -d /tmp/peat-cert-e2e.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
SECRET="$(head -c 32 /dev/urandom | base64)"
BASE=$((20000 + ($$ % 2000) * 10))
PA=$BASE PB=$((BASE + 3)) PC=$((BASE + 6))
failures=0
check() {  # check DESCRIPTION COMMAND...
  local what="$1"; shift
  if "$@"; then echo "ok: $what"; else failures=$((failures + 1)); echo "FAIL: $what" >&2; fi
}
wait_log() {  # wait_log FILE PATTERN: up to 15 s
  for _ in $(seq 150); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
peers() {  # peers FILE NAME:PORT...
  local file="$1"; shift
  : >"$file"
  for np in "$@"; do
    printf '[[peers]]\nnode_id = "%s"\naddresses = ["127.0.0.1:%s"]\n' "${np%%:*}" "${np##*:}" >>"$file"
  done
}
start() {  # start NAME QUIC_PORT ENV...
  local name="$1" port="$2"; shift 2
  env -i PATH="$PATH" PEAT_FORMATION_SECRET="$SECRET" HOSTNAME="$name" PEAT_DISCOVERY=static \
    PEAT_STATIC_PEERS="$WORK/$name.toml" PEAT_DATA_DIR="$WORK/$name" PEAT_BROKER_PORT=0 \
    PEAT_BIND_HOST=127.0.0.1 PEAT_IROH_BIND_PORT="$port" PEAT_LITE_PORT=off "$@" \
    "$NODE" >"$WORK/$name.out" 2>"$WORK/$name.log" &
  PIDS+=($!)
}
enroll() {  # enroll HOSTNAME TOKEN OUT
  env -i PATH="$PATH" "$CLI" enroll --server "127.0.0.1:$PA" --server-id "$ALPHA_ID" \
    --token "$2" --formation-secret "$SECRET" --hostname "$1" --out "$3" --timeout-ms 5000
}

# The authority public key everyone trusts: the one alpha derives from the secret (logged).
peers "$WORK/alpha.toml" "bravo:$PB" "charlie:$PC"
peers "$WORK/bravo.toml" "alpha:$PA"
peers "$WORK/charlie.toml" "alpha:$PA"
# First run: the enrollment endpoint on a separate port (PEAT_ENROLLMENT_PORT).
start alpha "$PA" PEAT_ENROLLMENT_TOKENS="tok-alpha=regional,tok-bravo" PEAT_REQUIRE_CERTIFICATES=true \
  PEAT_ENROLLMENT_PORT="$((PA + 1))"
check "alpha: enrollment endpoint up" wait_log "$WORK/alpha.log" "Enrollment ALPN (peat/enroll/1) enabled"
check "alpha: separate enrollment port" grep -q "Enrollment ALPN (peat/enroll/1) enabled port=$((PA + 1)) " "$WORK/alpha.log"
AUTH="$(sed -n 's/.*Enrollment ALPN.* authority=\([0-9a-f]*\).*/\1/p' "$WORK/alpha.log" | head -1)"
ALPHA_ID="$(sed -n 's/^endpoint_id: *//p' "$WORK/alpha.out")"
check "alpha: authority key logged" [ ${#AUTH} -eq 64 ]
check "alpha: registered tokens logged" grep -q "Registered enrollment token" "$WORK/alpha.log"
# alpha was started without PEAT_AUTHORITY_KEY; restart it gating with the key it logged.
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null; PIDS=()
start alpha "$PA" PEAT_ENROLLMENT_TOKENS="tok-alpha=regional,tok-bravo" \
  PEAT_REQUIRE_CERTIFICATES=true PEAT_AUTHORITY_KEY="$AUTH"
check "alpha: gating enabled" wait_log "$WORK/alpha.log" "Layer 2 certificate gating enabled"
# Second run: enrollment shares the node's QUIC port (the default, as in Rust).
check "alpha: enrollment on the QUIC port" wait_log "$WORK/alpha.log" "Enrollment ALPN (peat/enroll/1) enabled port=$PA "

enroll alpha tok-alpha "$WORK/alpha.cert" >"$WORK/enroll-alpha.out" 2>&1
check "enroll alpha (its own endpoint): exit 0 $(tail -1 "$WORK/enroll-alpha.out")" [ -s "$WORK/alpha.cert" ]
check "alpha picks up its own certificate from the store" wait_log "$WORK/alpha.log" "own certificate found in the store"
enroll bravo tok-bravo "$WORK/bravo.cert" >"$WORK/enroll-bravo.out" 2>&1
check "enroll bravo: exit 0" [ $? -eq 0 ]
check "enroll bravo: issuer verified" grep -q "(verified)" "$WORK/enroll-bravo.out"
enroll bravo tok-bravo "$WORK/again.cert" >"$WORK/enroll-again.out" 2>&1
rc=$?
check "reused token: exit 1 (got $rc)" [ $rc -eq 1 ]
check "reused token: reason shown" grep -q "invalid bootstrap token" "$WORK/enroll-again.out"
enroll bravo wrong "$WORK/wrong.cert" >"$WORK/enroll-wrong.out" 2>&1
check "bad token: denied" grep -q "ENROLLMENT_DENIED" "$WORK/enroll-wrong.out"

start bravo "$PB" PEAT_AUTHORITY_KEY="$AUTH" PEAT_REQUIRE_CERTIFICATES=1 \
  PEAT_CERTIFICATE_FILE="$WORK/bravo.cert" PEAT_ENROLLMENT_PORT=0
check "alpha admits bravo" wait_log "$WORK/alpha.log" "peer bravo admitted"
check "bravo admits alpha" wait_log "$WORK/bravo.log" "peer alpha admitted"
check "alpha: bravo connected" wait_log "$WORK/alpha.log" "Peer connected node_id=bravo"

start charlie "$PC" PEAT_AUTHORITY_KEY="$AUTH"
check "alpha refuses charlie with the reason" wait_log "$WORK/alpha.log" "peer charlie refused"
check "charlie learns why" wait_log "$WORK/charlie.log" "peer alpha refused by peer"
check "alpha never connects charlie" bash -c "! grep -q 'Peer connected node_id=charlie' '$WORK/alpha.log'"

# Revoke bravo: the document goes into bravo's store (its broker), syncs to alpha.
env -i PATH="$PATH" PEAT_FORMATION_SECRET="$SECRET" "$CLI" revoke --hostname bravo \
  --reason "device lost" --out "$WORK/rev.json" 2>"$WORK/revoke.err"
check "revoke: document written" grep -q revocation_data "$WORK/rev.json"
BRAVO_KEY="$(sed -n 's/.*"subject":"\([0-9a-f]*\)".*/\1/p' "$WORK/rev.json")"
BRAVO_BROKER="$(sed -n 's/.*broker listening on [0-9.]*:\([0-9]*\).*/\1/p' "$WORK/bravo.log" | head -1)"
curl -s -o "$WORK/put.out" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
  --data @"$WORK/rev.json" "http://127.0.0.1:$BRAVO_BROKER/api/v1/documents/revocations/$BRAVO_KEY" \
  >"$WORK/put.code"
check "revocation PUT on bravo: 2xx ($(cat "$WORK/put.code"))" grep -q '^2' "$WORK/put.code"
check "alpha applies the synced revocation" wait_log "$WORK/alpha.log" "Certificate revocation applied"
check "alpha cuts bravo off" wait_log "$WORK/alpha.log" "peer bravo refused: CERTIFICATE_REVOKED"
check "bravo is told why" wait_log "$WORK/bravo.log" "refused by peer: CERTIFICATE_REVOKED"

if [ $failures -ne 0 ]; then
  for f in alpha bravo charlie; do echo "--- $f.log" >&2; grep -v '^DBG' "$WORK/$f.log" | tail -25 >&2; done
  exit 1
fi
echo "certificates e2e: all checks passed"
