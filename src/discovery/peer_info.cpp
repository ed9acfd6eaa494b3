#include "peat/discovery/peer_info.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <nlohmann/json.hpp>

namespace peat::discovery {

bool is_ip_literal(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

Result<SocketAddress> parse_socket_address(std::string_view text) {
  auto bad = [&](const char* why) {
    return make_error("INVALID_ADDRESS", "'" + std::string(text) + "': " + why);
  };
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') return bad("missing port");
    port = text.substr(close + 2);
    std::string h(host);
    unsigned char buf[16];
    if (inet_pton(AF_INET6, h.c_str(), buf) != 1) return bad("not an IPv6 address");
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("missing port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    std::string h(host);
    unsigned char buf[4];
    if (inet_pton(AF_INET, h.c_str(), buf) != 1) return bad("not an IPv4 address");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad("bad port");
  }
  return SocketAddress{std::string(host), static_cast<std::uint16_t>(value)};
}

std::string format_socket_address(const SocketAddress& address) {
  if (address.host.find(':') != std::string::npos) {
    return "[" + address.host + "]:" + std::to_string(address.port);
  }
  return address.host + ":" + std::to_string(address.port);
}

bool PeerInfo::same_content(const PeerInfo& other) const {
  return node_id == other.node_id && addresses == other.addresses && relay_url == other.relay_url &&
         metadata == other.metadata;
}

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

std::string to_json(const PeerInfo& peer) {
  nlohmann::ordered_json j;  // field order as Rust's serde writes it
  j["node_id"] = peer.node_id;
  j["addresses"] = nlohmann::ordered_json::array();
  for (const auto& a : peer.addresses) j["addresses"].push_back(format_socket_address(a));
  j["relay_url"] =
      peer.relay_url ? nlohmann::ordered_json(*peer.relay_url) : nlohmann::ordered_json(nullptr);
  j["metadata"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : peer.metadata) j["metadata"][k] = v;
  return j.dump();
}

Result<PeerInfo> peer_info_from_json(std::string_view json, Instant now) {
  auto bad = [](const std::string& why) { return make_error("INVALID_JSON", why); };
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  PeerInfo p;
  p.last_seen = now;
  auto id = j.find("node_id");
  if (id == j.end() || !id->is_string()) return bad("node_id must be a string");
  p.node_id = id->get<std::string>();
  auto addrs = j.find("addresses");
  if (addrs == j.end() || !addrs->is_array()) return bad("addresses must be an array");
  for (const auto& a : *addrs) {
    if (!a.is_string()) return bad("addresses must hold strings");
    auto parsed = parse_socket_address(a.get<std::string>());
    if (!parsed) return bad(parsed.error().message);
    p.addresses.push_back(*parsed);
  }
  auto relay = j.find("relay_url");
  if (relay != j.end() && !relay->is_null()) {
    if (!relay->is_string()) return bad("relay_url must be a string or null");
    p.relay_url = relay->get<std::string>();
  }
  auto meta = j.find("metadata");
  if (meta == j.end() || !meta->is_object()) return bad("metadata must be an object");
  for (const auto& [k, v] : meta->items()) {
    if (!v.is_string()) return bad("metadata values must be strings");
    p.metadata[k] = v.get<std::string>();
  }
  return p;
}

const std::string& event_node_id(const DiscoveryEvent& event) {
  if (auto* f = std::get_if<PeerFound>(&event)) return f->peer.node_id;
  if (auto* u = std::get_if<PeerUpdated>(&event)) return u->peer.node_id;
  return std::get<PeerLost>(event).node_id;
}

}  // namespace peat::discovery
