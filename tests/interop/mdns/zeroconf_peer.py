#!/usr/bin/python3
"""python3-zeroconf side of the mDNS interop test (runs inside the test's network namespace).

  zeroconf_peer.py browse --node ID --port P [--txt k=v]... [--expect-removal] --seconds S
      waits until service peat-ID._peat._udp.local. resolves with node_id=ID, port P and the
      TXT pairs (and, with --expect-removal, until it is removed again); exit 0 / 1.
  zeroconf_peer.py register --node ID --port P [--txt k=v]... --seconds S
      registers peat-ID._peat._udp.local. on --address (127.0.0.1), keeps it S seconds,
      unregisters.
"""
import argparse
import socket
import sys
import threading
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, Zeroconf

SERVICE_TYPE = "_peat._udp.local."


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["browse", "register"])
    ap.add_argument("--node", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--txt", action="append", default=[])
    ap.add_argument("--expect-removal", action="store_true")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--address", default="127.0.0.1",
                    help="interface address to use (and to register)")
    ap.add_argument("--expect-address", help="browse: an address the service must have")
    a = ap.parse_args()
    txt = dict(kv.split("=", 1) for kv in a.txt)
    zc = Zeroconf(interfaces=[a.address], ip_version=IPVersion.V4Only)
    instance = "peat-%s.%s" % (a.node, SERVICE_TYPE)
    try:
        if a.mode == "register":
            props = {"node_id": a.node}
            props.update(txt)
            info = ServiceInfo(SERVICE_TYPE, instance, addresses=[socket.inet_aton(a.address)],
                               port=a.port, properties=props, server="%s.local." % a.node)
            zc.register_service(info)
            print("zeroconf: registered", instance, flush=True)
            time.sleep(a.seconds)
            zc.unregister_service(info)
            print("zeroconf: unregistered", instance, flush=True)
            return 0

        state = {"ok": False, "removed": False, "why": "not seen"}
        done = threading.Event()

        class Listener:
            def add_service(self, z, type_, name):
                self.check(z, type_, name)

            def update_service(self, z, type_, name):
                self.check(z, type_, name)

            def remove_service(self, z, type_, name):
                print("zeroconf: removed", name, flush=True)
                if name.lower() == instance.lower() and state["ok"]:
                    state["removed"] = True
                    done.set()

            def check(self, z, type_, name):
                info = z.get_service_info(type_, name, timeout=3000)
                print("zeroconf: saw", name, info, flush=True)
                if name.lower() != instance.lower() or info is None:
                    return
                props = {k.decode(): (v.decode() if v is not None else "")
                         for k, v in info.properties.items()}
                want = {"node_id": a.node}
                want.update(txt)
                if info.port != a.port:
                    state["why"] = "port %s != %s" % (info.port, a.port)
                elif any(props.get(k) != v for k, v in want.items()):
                    state["why"] = "TXT %s lacks %s" % (props, want)
                elif not info.parsed_addresses():
                    state["why"] = "no addresses"
                elif a.expect_address and a.expect_address not in info.parsed_addresses():
                    state["why"] = "addresses %s lack %s" % (info.parsed_addresses(),
                                                            a.expect_address)
                else:
                    state["ok"] = True
                    if not a.expect_removal:
                        done.set()

        ServiceBrowser(zc, SERVICE_TYPE, Listener())
        done.wait(a.seconds)
        if state["ok"] and (state["removed"] or not a.expect_removal):
            print("zeroconf: OK", flush=True)
            return 0
        print("zeroconf: FAILED:", state, flush=True)
        return 1
    finally:
        zc.close()


if __name__ == "__main__":
    sys.exit(main())
