// The common discovery model: who was found (PeerInfo) and what changed (DiscoveryEvent).
// Same shape as the Rust crate's discovery::PeerInfo / DiscoveryEvent.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "peat/common/clock.hpp"
#include "peat/common/result.hpp"
#include "peat/transport/transport.hpp"

namespace peat::discovery {

// host is an IP literal (IPv6 without brackets), port the peer's mesh port.
using SocketAddress = transport::PeerAddress;

// Parses "10.0.0.1:5000" or "[::1]:5000" (IP literals only, no host names). "INVALID_ADDRESS".
Result<SocketAddress> parse_socket_address(std::string_view text);
// "10.0.0.1:5000" / "[::1]:5000".
std::string format_socket_address(const SocketAddress& address);
// True if `text` is an IPv4 or IPv6 literal.
bool is_ip_literal(std::string_view text);

struct PeerInfo {
  std::string node_id;
  std::vector<SocketAddress> addresses;
  std::optional<std::string> relay_url;
  Instant last_seen{};  // not serialized
  std::map<std::string, std::string> metadata;

  // Equal in everything but last_seen.
  bool same_content(const PeerInfo& other) const;
};

// A process-wide SystemClock, the default clock of strategies.
const Clock& system_clock();

// JSON form as in Rust:
// {"node_id":..,"addresses":["10.0.0.1:5000"],"relay_url":null,"metadata":{}}.
std::string to_json(const PeerInfo& peer);
// last_seen is set to `now`. Errors: "INVALID_JSON".
Result<PeerInfo> peer_info_from_json(std::string_view json, Instant now);

struct PeerFound {
  PeerInfo peer;
};
struct PeerUpdated {
  PeerInfo peer;
};
struct PeerLost {
  std::string node_id;
};
using DiscoveryEvent = std::variant<PeerFound, PeerUpdated, PeerLost>;

// node_id of any event.
const std::string& event_node_id(const DiscoveryEvent& event);

// Error codes and texts of the Rust DiscoveryError (message = Rust Display text).
inline Error mdns_error(const std::string& m) {
  return make_error("MDNS_ERROR", "mDNS error: " + m);
}
inline Error config_error(const std::string& m) {
  return make_error("CONFIG_ERROR", "Configuration error: " + m);
}
inline Error io_error(const std::string& m) {
  return make_error("IO_ERROR", "I/O error: " + m);
}
inline Error stream_consumed_error() {
  return make_error("EVENT_STREAM_CONSUMED", "Event stream already consumed");
}
inline Error kubernetes_error(const std::string& m) {
  return make_error("KUBERNETES_ERROR", "Kubernetes API error: " + m);
}

}  // namespace peat::discovery
