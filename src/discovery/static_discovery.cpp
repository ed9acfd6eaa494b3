#include "peat/discovery/static_discovery.hpp"

#include <toml++/toml.h>
#include <fstream>
#include <sstream>

namespace peat::discovery {
namespace {

Error parse_error(std::string_view source, std::uint32_t line, const std::string& what) {
  return config_error("Failed to parse TOML config: " + std::string(source) + ":" +
                      std::to_string(line) + ": " + what);
}

Result<StaticPeerConfig> read_peer(const toml::table& t, std::string_view source) {
  StaticPeerConfig p;
  const auto line = t.source().begin.line;
  auto at = [&](const toml::node& n) { return n.source().begin.line; };

  const toml::node* id = t.get("node_id");
  if (!id) return parse_error(source, line, "peer is missing required key 'node_id'");
  if (!id->is_string()) return parse_error(source, at(*id), "'node_id' must be a string");
  p.node_id = id->as_string()->get();

  const toml::node* addrs = t.get("addresses");
  if (!addrs) return parse_error(source, line, "peer is missing required key 'addresses'");
  if (!addrs->is_array()) {
    return parse_error(source, at(*addrs), "'addresses' must be an array of strings");
  }
  for (const toml::node& a : *addrs->as_array()) {
    if (!a.is_string()) return parse_error(source, at(a), "'addresses' entries must be strings");
    p.addresses.push_back(a.as_string()->get());
  }

  if (const toml::node* relay = t.get("relay_url")) {
    if (!relay->is_string()) return parse_error(source, at(*relay), "'relay_url' must be a string");
    p.relay_url = relay->as_string()->get();
  }
  if (const toml::node* prio = t.get("priority")) {
    if (!prio->is_integer()) return parse_error(source, at(*prio), "'priority' must be an integer");
    const std::int64_t v = prio->as_integer()->get();
    if (v < 0 || v > 255) return parse_error(source, at(*prio), "'priority' must be in 0..255");
    p.priority = static_cast<std::uint8_t>(v);
  }
  if (const toml::node* meta = t.get("metadata")) {
    if (!meta->is_table()) return parse_error(source, at(*meta), "'metadata' must be a table");
    for (const auto& [k, v] : *meta->as_table()) {
      if (!v.is_string()) {
        return parse_error(source, at(v),
                           "metadata value '" + std::string(k.str()) + "' must be a string");
      }
      p.metadata[std::string(k.str())] = v.as_string()->get();
    }
  }
  return p;
}

}  // namespace

Result<StaticDiscoveryConfig> parse_static_config(std::string_view toml_text,
                                                  std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    return parse_error(source, e.source().begin.line, std::string(e.description()));
  }
  StaticDiscoveryConfig config;
  const toml::node* peers = root.get("peers");
  if (!peers) return config;
  if (!peers->is_array_of_tables()) {
    return parse_error(source, peers->source().begin.line,
                       "'peers' must be an array of tables ([[peers]])");
  }
  for (const toml::node& n : *peers->as_array()) {
    auto peer = read_peer(*n.as_table(), source);
    if (!peer) return peer.error();
    config.peers.push_back(std::move(*peer));
  }
  return config;
}

Result<StaticDiscoveryConfig> load_static_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return config_error("Failed to read config file: " + path.string() + ": cannot open");
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return config_error("Failed to read config file: " + path.string() + ": read error");
  }
  return parse_static_config(text.str(), path.string());
}

std::string to_toml(const StaticDiscoveryConfig& config) {
  toml::array peers;
  for (const auto& p : config.peers) {
    toml::table t;
    t.insert("node_id", p.node_id);
    toml::array addrs;
    for (const auto& a : p.addresses) addrs.push_back(a);
    t.insert("addresses", std::move(addrs));
    if (p.relay_url) t.insert("relay_url", *p.relay_url);
    t.insert("priority", static_cast<std::int64_t>(p.priority));
    if (!p.metadata.empty()) {
      toml::table meta;
      for (const auto& [k, v] : p.metadata) meta.insert(k, v);
      t.insert("metadata", std::move(meta));
    }
    peers.push_back(std::move(t));
  }
  toml::table root;
  root.insert("peers", std::move(peers));
  std::ostringstream out;
  out << root << "\n";
  return out.str();
}

std::optional<PeerInfo> to_peer_info(const StaticPeerConfig& peer, Instant now) {
  PeerInfo info;
  info.node_id = peer.node_id;
  info.relay_url = peer.relay_url;
  info.metadata = peer.metadata;
  info.last_seen = now;
  for (const auto& a : peer.addresses) {
    if (auto parsed = parse_socket_address(a)) info.addresses.push_back(*parsed);
  }
  if (info.addresses.empty()) return std::nullopt;
  return info;
}

StaticDiscovery::StaticDiscovery(StaticDiscoveryConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock) {}

Result<std::unique_ptr<StaticDiscovery>> StaticDiscovery::from_file(
    const std::filesystem::path& path, const Clock& clock) {
  auto config = load_static_config(path);
  if (!config) return config.error();
  auto d = std::make_unique<StaticDiscovery>(std::move(*config), clock);
  d->path_ = path;
  return d;
}

void StaticDiscovery::apply(const StaticDiscoveryConfig& config) {
  const Instant now = clock_.now();
  std::map<std::string, PeerInfo> wanted;
  std::vector<std::string> order;
  for (const auto& p : config.peers) {
    auto info = to_peer_info(p, now);
    if (!info) continue;
    if (!wanted.count(info->node_id)) order.push_back(info->node_id);
    wanted[info->node_id] = std::move(*info);
  }
  for (const auto& known : table_.peers()) {
    if (!wanted.count(known.node_id)) {
      if (auto e = table_.remove(known.node_id)) emit(std::move(*e));
    }
  }
  for (const auto& id : order) {
    if (auto e = table_.observe(wanted[id], now)) emit(std::move(*e));
  }
}

Status StaticDiscovery::start() {
  if (running_) return {};
  running_ = true;
  apply(config_);
  return {};
}

Status StaticDiscovery::stop() {
  running_ = false;
  return {};
}

std::vector<PeerInfo> StaticDiscovery::discovered_peers() const {
  return table_.peers();
}

void StaticDiscovery::reload(StaticDiscoveryConfig config) {
  config_ = std::move(config);
  if (running_) apply(config_);
}

Status StaticDiscovery::reload_file() {
  if (!path_) return config_error("reload_file: not loaded from a file");
  auto config = load_static_config(*path_);
  if (!config) return config.error();
  reload(std::move(*config));
  return {};
}

}  // namespace peat::discovery
