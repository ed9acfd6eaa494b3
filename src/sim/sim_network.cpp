#include "peat/sim/sim_network.hpp"

#include <algorithm>

namespace peat::sim {

namespace {
std::uint64_t fnv(ByteView data, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (auto b : data) {
    h ^= b;
    h *= 0x100000001b3ULL;
  }
  return h;
}
}  // namespace

const char* to_string(PacketFate fate) {
  switch (fate) {
    case PacketFate::kSent:
      return "sent";
    case PacketFate::kDelivered:
      return "delivered";
    case PacketFate::kLost:
      return "lost";
    case PacketFate::kQueueFull:
      return "queue full";
    case PacketFate::kLinkDown:
      return "link down";
    case PacketFate::kNodeDown:
      return "node down";
    case PacketFate::kNoEndpoint:
      return "no endpoint";
    case PacketFate::kFiltered:
      return "filtered";
    case PacketFate::kDuplicated:
      return "duplicated";
  }
  return "unknown";
}

SimNetwork::SimNetwork(SimLoop& loop, std::uint64_t seed, std::string name)
    : loop_(loop), rng_(seed), name_(std::move(name)) {}

void SimNetwork::add_node(const NodeName& node) {
  nodes_.try_emplace(node);
}

bool SimNetwork::has_node(const NodeName& node) const {
  return nodes_.contains(node);
}

std::vector<NodeName> SimNetwork::nodes() const {
  std::vector<NodeName> out;
  for (const auto& [name, state] : nodes_) out.push_back(name);
  return out;
}

void SimNetwork::set_default_link(const LinkConfig& config) {
  default_link_ = config;
}

void SimNetwork::set_link(const NodeName& a, const NodeName& b, const LinkConfig& config) {
  set_link_oneway(a, b, config);
  set_link_oneway(b, a, config);
}

void SimNetwork::set_link_oneway(const NodeName& from, const NodeName& to,
                                 const LinkConfig& config) {
  links_[{from, to}].config = config;
}

const LinkConfig& SimNetwork::config_of(const NodeName& from, const NodeName& to) const {
  auto it = links_.find({from, to});
  if (it != links_.end() && it->second.config) return *it->second.config;
  return default_link_;
}

LinkConfig SimNetwork::link(const NodeName& from, const NodeName& to) const {
  return config_of(from, to);
}

void SimNetwork::set_link_up(const NodeName& a, const NodeName& b, bool up) {
  for (auto [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
    LinkConfig config = config_of(x, y);
    config.up = up;
    links_[{x, y}].config = config;
  }
}

void SimNetwork::partition(const std::vector<std::vector<NodeName>>& groups) {
  for (auto& [name, state] : nodes_) state.group = -1;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (const auto& node : groups[g]) {
      add_node(node);
      nodes_[node].group = static_cast<int>(g);
    }
  }
  partitioned_ = true;
  loop_.trace(0x9a27);
}

void SimNetwork::heal() {
  for (auto& [name, state] : nodes_) state.group = -1;
  partitioned_ = false;
  loop_.trace(0x4ea1);
}

bool SimNetwork::partitioned(const NodeName& a, const NodeName& b) const {
  if (!partitioned_ || a == b) return false;
  auto ia = nodes_.find(a);
  auto ib = nodes_.find(b);
  int ga = ia == nodes_.end() ? -1 : ia->second.group;
  int gb = ib == nodes_.end() ? -1 : ib->second.group;
  return ga != gb;
}

bool SimNetwork::can_reach(const NodeName& from, const NodeName& to) const {
  if (!is_up(from) || !is_up(to)) return false;
  if (partitioned(from, to)) return false;
  return from == to || config_of(from, to).up;
}

void SimNetwork::crash(const NodeName& node) {
  auto it = nodes_.find(node);
  if (it == nodes_.end() || !it->second.up) return;
  it->second.up = false;
  loop_.trace(0xc4a5);
  // Collect first: crash handlers may unbind.
  std::vector<CrashHandler> handlers;
  for (auto b = bindings_.begin(); b != bindings_.end();) {
    if (b->first.first == node) {
      if (b->second.on_crash) handlers.push_back(std::move(b->second.on_crash));
      b = bindings_.erase(b);
    } else {
      ++b;
    }
  }
  for (auto& handler : handlers) handler();
}

void SimNetwork::restart(const NodeName& node) {
  auto& state = nodes_[node];
  if (state.up) return;
  state.up = true;
  ++state.incarnation;
  loop_.trace(0x4e57);
}

bool SimNetwork::is_up(const NodeName& node) const {
  auto it = nodes_.find(node);
  return it != nodes_.end() && it->second.up;
}

std::uint32_t SimNetwork::incarnation(const NodeName& node) const {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? 0 : it->second.incarnation;
}

Status SimNetwork::bind(const PeerAddress& address, PacketHandler on_packet,
                        CrashHandler on_crash) {
  if (!has_node(address.host)) return make_error("UNKNOWN_NODE", "no node " + address.host);
  if (!is_up(address.host)) return make_error("NODE_DOWN", address.host + " is crashed");
  auto [it, inserted] = bindings_.try_emplace({address.host, address.port},
                                              Binding{std::move(on_packet), std::move(on_crash)});
  if (!inserted) return make_error("ADDRESS_IN_USE", address.to_string() + " is bound");
  return {};
}

void SimNetwork::unbind(const PeerAddress& address) {
  bindings_.erase({address.host, address.port});
}

std::uint16_t SimNetwork::ephemeral_port(const NodeName& node) const {
  for (std::uint32_t port = 49152; port <= 65535; ++port) {
    if (!bindings_.contains({node, static_cast<std::uint16_t>(port)})) {
      return static_cast<std::uint16_t>(port);
    }
  }
  return 0;
}

void SimNetwork::fate(const Packet& packet, PacketFate what) {
  switch (what) {
    case PacketFate::kSent:
      ++stats_.sent;
      break;
    case PacketFate::kDelivered:
      ++stats_.delivered;
      stats_.bytes_delivered += packet.data.size();
      break;
    case PacketFate::kLost:
      ++stats_.lost;
      break;
    case PacketFate::kQueueFull:
      ++stats_.queue_full;
      break;
    case PacketFate::kLinkDown:
      ++stats_.link_down;
      break;
    case PacketFate::kNodeDown:
      ++stats_.node_down;
      break;
    case PacketFate::kNoEndpoint:
      ++stats_.no_endpoint;
      break;
    case PacketFate::kFiltered:
      ++stats_.filtered;
      break;
    case PacketFate::kDuplicated:
      ++stats_.duplicated;
      break;
  }
  loop_.trace((packet.id << 4) | static_cast<std::uint64_t>(what));
  if (observer_) observer_(packet, what);
}

void SimNetwork::send(const PeerAddress& from, const PeerAddress& to, Bytes data) {
  Packet packet{from, to, std::move(data), next_packet_id_++};
  loop_.trace(fnv(packet.data, fnv(as_bytes(to.host), fnv(as_bytes(from.host)))));
  if (!is_up(from.host) || !is_up(to.host)) return fate(packet, PacketFate::kNodeDown);
  if (!can_reach(from.host, to.host)) return fate(packet, PacketFate::kLinkDown);
  if (filter_ && filter_(packet) == Verdict::kDrop) return fate(packet, PacketFate::kFiltered);

  const LinkConfig& config = config_of(from.host, to.host);
  if (config.loss > 0 && rng_.unit() < config.loss) return fate(packet, PacketFate::kLost);

  Instant now = loop_.now();
  Instant departure = now;
  if (config.bandwidth_bps > 0 && from.host != to.host) {
    auto& state = links_[{from.host, to.host}];
    Instant start = std::max(now, state.busy_until);
    // Bytes already waiting in the queue ahead of this packet.
    auto queued_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(start - now).count();
    double queued_bytes =
        static_cast<double>(queued_ns) * 1e-9 * static_cast<double>(config.bandwidth_bps) / 8.0;
    if (queued_bytes + static_cast<double>(packet.data.size()) >
        static_cast<double>(config.queue_bytes)) {
      return fate(packet, PacketFate::kQueueFull);
    }
    auto serialization = std::chrono::nanoseconds(static_cast<std::int64_t>(
        static_cast<double>(packet.data.size()) * 8e9 / static_cast<double>(config.bandwidth_bps)));
    state.busy_until = start + serialization;
    departure = state.busy_until;
  }

  auto arrival = [&] {
    Instant at = departure + config.delay;
    if (config.jitter > Duration::zero()) {
      at += Duration(static_cast<Duration::rep>(
          rng_.uniform(static_cast<std::uint64_t>(config.jitter.count()) + 1)));
    }
    if (config.reorder > 0 && rng_.unit() < config.reorder) at += config.reorder_delay;
    return at;
  };

  fate(packet, PacketFate::kSent);
  if (config.duplicate > 0 && rng_.unit() < config.duplicate) {
    fate(packet, PacketFate::kDuplicated);
    schedule_delivery(packet, arrival());
  }
  Instant at = arrival();
  schedule_delivery(std::move(packet), at);
}

std::size_t SimNetwork::broadcast(const PeerAddress& from, std::uint16_t port, const Bytes& data) {
  std::vector<NodeName> targets;
  for (const auto& [name, state] : nodes_) {
    if (name != from.host) targets.push_back(name);
  }
  for (const auto& node : targets) send(from, {node, port}, data);
  return targets.size();
}

void SimNetwork::schedule_delivery(Packet packet, Instant at) {
  loop_.call_at(at, [this, p = std::move(packet)] { deliver(p); });
}

void SimNetwork::deliver(const Packet& packet) {
  if (!is_up(packet.to.host)) return fate(packet, PacketFate::kNodeDown);
  // A packet already on the wire still arrives if its sender crashed, but not across a cut.
  if (partitioned(packet.from.host, packet.to.host) ||
      (packet.from.host != packet.to.host && !config_of(packet.from.host, packet.to.host).up)) {
    return fate(packet, PacketFate::kLinkDown);
  }
  auto it = bindings_.find({packet.to.host, packet.to.port});
  if (it == bindings_.end()) return fate(packet, PacketFate::kNoEndpoint);
  fate(packet, PacketFate::kDelivered);
  // Copy: the handler may unbind itself.
  PacketHandler handler = it->second.on_packet;
  handler(packet);
}

}  // namespace peat::sim
