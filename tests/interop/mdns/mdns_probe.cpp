// Test peer for the mDNS interop test: advertises a service or browses for one with
// MdnsDiscovery on real sockets (run inside a network namespace), and reports on stdout.
//
//   interop_mdns_probe advertise --node ID --port P [--txt k=v]... [--interface IF] --seconds S
//   interop_mdns_probe browse --node ID --port P [--txt k=v]... [--interface IF] [--expect-lost]
//                             [--expect-address IP] --seconds S
// Exit 0 on success, 1 when the expectation was not met in time, 2 on usage/setup errors.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "peat/discovery/mdns_discovery.hpp"
#include "peat/runtime/io_loop.hpp"

namespace {

using peat::discovery::DiscoveryEvent;
using peat::discovery::PeerFound;
using peat::discovery::PeerInfo;
using peat::discovery::PeerLost;
using peat::discovery::PeerUpdated;

struct Args {
  std::string mode, node, interface, expect_address;
  std::uint16_t port = 0;
  std::map<std::string, std::string> txt;
  bool expect_lost = false;
  int seconds = 10;
};

bool parse(int argc, char** argv, Args& a) {
  if (argc < 2) return false;
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (k == "--node") {
      a.node = next();
    } else if (k == "--port") {
      a.port = static_cast<std::uint16_t>(std::atoi(next().c_str()));
    } else if (k == "--interface") {
      a.interface = next();
    } else if (k == "--seconds") {
      a.seconds = std::atoi(next().c_str());
    } else if (k == "--expect-address") {
      a.expect_address = next();
    } else if (k == "--expect-lost") {
      a.expect_lost = true;
    } else if (k == "--txt") {
      const std::string kv = next();
      const auto eq = kv.find('=');
      if (eq == std::string::npos) return false;
      a.txt[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else {
      return false;
    }
  }
  return (a.mode == "advertise" || a.mode == "browse") && !a.node.empty() && a.port != 0 &&
         a.seconds > 0 && a.seconds < 120;
}

std::string describe(const PeerInfo& p) {
  std::string s = p.node_id + " [";
  for (const auto& a : p.addresses) s += peat::discovery::format_socket_address(a) + " ";
  s += "] {";
  for (const auto& [k, v] : p.metadata) s += k + "=" + v + " ";
  return s + "}";
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse(argc, argv, args)) {
    std::cerr << "usage: interop_mdns_probe advertise|browse --node ID --port P [--txt k=v]... "
                 "[--interface IF] [--expect-lost] [--expect-address IP] --seconds S\n";
    return 2;
  }
  peat::runtime::IoLoop loop;
  peat::discovery::MdnsConfig config;
  config.interface = args.interface;
  peat::discovery::MdnsDiscovery mdns(loop, config);
  auto stream = *mdns.event_stream();

  if (args.mode == "advertise") {
    if (auto st = mdns.advertise(args.node, args.port, args.txt); !st) {
      std::cerr << "advertise: " << st.error().to_string() << "\n";
      return 2;
    }
  }
  if (auto st = mdns.start(); !st) {
    std::cerr << "start: " << st.error().to_string() << "\n";
    return 2;
  }
  std::cout << "probe: " << args.mode << " " << args.node << " started" << std::endl;

  if (args.mode == "advertise") {
    loop.run_for(std::chrono::seconds(args.seconds));
    (void)mdns.stop();  // sends the goodbye
    std::cout << "probe: stopped (goodbye sent)" << std::endl;
    return 0;
  }

  bool matched = false, lost = false;
  std::string mismatch;
  const bool done = loop.run_until(
      [&] {
        while (auto e = stream->try_next()) {
          const PeerInfo* p = nullptr;
          if (auto* f = std::get_if<PeerFound>(&*e)) p = &f->peer;
          if (auto* u = std::get_if<PeerUpdated>(&*e)) p = &u->peer;
          if (p) {
            std::cout << "probe: event "
                      << (std::holds_alternative<PeerFound>(*e) ? "found " : "updated ")
                      << describe(*p) << std::endl;
            if (p->node_id != args.node) continue;
            bool ok = !p->addresses.empty();
            bool has_expected = args.expect_address.empty();
            for (const auto& a : p->addresses) {
              ok = ok && a.port == args.port;
              has_expected = has_expected || a.host == args.expect_address;
            }
            ok = ok && has_expected;
            for (const auto& [k, v] : args.txt) {
              auto it = p->metadata.find(k);
              ok = ok && it != p->metadata.end() && it->second == v;
            }
            if (ok) {
              matched = true;
            } else {
              mismatch = describe(*p);
            }
          } else if (std::get<PeerLost>(*e).node_id == args.node) {
            std::cout << "probe: event lost " << args.node << std::endl;
            lost = matched;
          }
        }
        return matched && (!args.expect_lost || lost);
      },
      std::chrono::seconds(args.seconds));
  (void)mdns.stop();
  if (!done) {
    std::cout << "probe: FAILED: matched=" << matched << " lost=" << lost
              << (mismatch.empty() ? "" : " last mismatch: " + mismatch) << std::endl;
    return 1;
  }
  std::cout << "probe: OK" << std::endl;
  return 0;
}
