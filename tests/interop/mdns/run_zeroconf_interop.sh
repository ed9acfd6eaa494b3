#!/bin/bash
# mDNS interop between our MdnsDiscovery and python3-zeroconf, both inside a fresh network
# namespace (loopback with multicast on), so nothing is ever sent on the machine's interfaces.
#   1. we advertise, zeroconf resolves our service (port, TXT node_id + metadata) and sees our
#      goodbye when we stop;
#   2. zeroconf registers, we resolve it (port, TXT) and see its goodbye as PeerLost;
#   3./4. the same across a veth pair between two namespaces (10.77.0.1 <-> 10.77.0.2), with our
#      side bound to its veth interface by name.
# Exit 77 (skipped) only when network namespaces cannot be created (not root / no capability).
set -u
PROBE=$1
ZC_PEER=$2
PY=/usr/bin/python3

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: creating a network namespace needs root (ip netns)"
  exit 77
fi
if ! command -v ip >/dev/null; then
  echo "SKIP: iproute2 'ip' not found"
  exit 77
fi
if ! $PY -c 'import zeroconf' 2>/dev/null; then
  echo "FAIL: Debian package python3-zeroconf is not installed ($PY -c 'import zeroconf')"
  exit 1
fi

NS=peat-mdns-$$
NS2=peat-mdns-$$-b
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  ip netns del "$NS2" 2>/dev/null
}
trap cleanup EXIT INT TERM

if ! ip netns add "$NS" 2>/dev/null; then
  echo "SKIP: cannot create network namespace (no CAP_SYS_ADMIN?)"
  exit 77
fi
ip -n "$NS" link set lo up || exit 1
ip -n "$NS" link set lo multicast on || exit 1
in_ns() { timeout 40 ip netns exec "$NS" "$@"; }

fail=0

echo "== 1. peat advertises, zeroconf browses"
in_ns "$PROBE" advertise --node cpp-node-1 --port 7001 --txt role=leader --txt zone=alpha \
  --interface lo --seconds 6 &
PIDS+=($!)
if ! in_ns $PY "$ZC_PEER" browse --node cpp-node-1 --port 7001 --txt role=leader \
     --txt zone=alpha --expect-removal --seconds 20; then
  echo "FAIL: zeroconf did not resolve our service and see its goodbye"
  fail=1
fi
wait "${PIDS[0]}" || { echo "FAIL: advertising probe failed"; fail=1; }

echo "== 2. zeroconf registers, peat browses"
in_ns $PY "$ZC_PEER" register --node zc-node-1 --port 7002 --txt role=zc --seconds 5 &
PIDS+=($!)
if ! in_ns "$PROBE" browse --node zc-node-1 --port 7002 --txt role=zc --expect-lost \
     --interface lo --seconds 20; then
  echo "FAIL: we did not resolve zeroconf's service and see its goodbye"
  fail=1
fi
wait "${PIDS[1]}" || { echo "FAIL: zeroconf register failed"; fail=1; }

echo "== 3. across a veth pair: peat (10.77.0.1, bound to veth-a) advertises, zeroconf browses"
ip netns add "$NS2" || exit 1
ip -n "$NS2" link set lo up
ip -n "$NS" link add veth-a type veth peer name veth-b netns "$NS2" || exit 1
ip -n "$NS" addr add 10.77.0.1/24 dev veth-a
ip -n "$NS2" addr add 10.77.0.2/24 dev veth-b
ip -n "$NS" link set veth-a up
ip -n "$NS2" link set veth-b up
in_ns2() { timeout 40 ip netns exec "$NS2" "$@"; }
in_ns "$PROBE" advertise --node cpp-node-2 --port 7003 --txt role=relay --interface veth-a \
  --seconds 6 &
PIDS+=($!)
if ! in_ns2 $PY "$ZC_PEER" browse --node cpp-node-2 --port 7003 --txt role=relay \
     --address 10.77.0.2 --expect-address 10.77.0.1 --expect-removal --seconds 20; then
  echo "FAIL: zeroconf (other namespace) did not resolve our service at 10.77.0.1"
  fail=1
fi
wait "${PIDS[2]}" || { echo "FAIL: advertising probe failed"; fail=1; }

echo "== 4. across the veth pair: zeroconf (10.77.0.2) registers, peat browses on veth-a"
in_ns2 $PY "$ZC_PEER" register --node zc-node-2 --port 7004 --txt role=zc2 --address 10.77.0.2 \
  --seconds 5 &
PIDS+=($!)
if ! in_ns "$PROBE" browse --node zc-node-2 --port 7004 --txt role=zc2 --expect-lost \
     --expect-address 10.77.0.2 --interface veth-a --seconds 20; then
  echo "FAIL: we did not resolve zeroconf's service in the other namespace"
  fail=1
fi
wait "${PIDS[3]}" || { echo "FAIL: zeroconf register failed"; fail=1; }

[ $fail = 0 ] && echo "mDNS interop: OK"
exit $fail
