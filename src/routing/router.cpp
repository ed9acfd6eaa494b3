#include "peat/routing/router.hpp"

namespace peat::routing {

using topology::NodeRole;

bool consumes(const RoutingDecision& d) {
  return std::holds_alternative<decision::Consume>(d) ||
         std::holds_alternative<decision::ConsumeAndForward>(d) ||
         std::holds_alternative<decision::ConsumeAndForwardMulticast>(d);
}

std::vector<std::string> next_hops(const RoutingDecision& d) {
  if (auto* f = std::get_if<decision::Forward>(&d)) return {f->next_hop};
  if (auto* f = std::get_if<decision::ConsumeAndForward>(&d)) return {f->next_hop};
  if (auto* f = std::get_if<decision::ForwardMulticast>(&d)) return f->next_hops;
  if (auto* f = std::get_if<decision::ConsumeAndForwardMulticast>(&d)) return f->next_hops;
  return {};
}

const char* to_string(const RoutingDecision& d) {
  static constexpr const char* kNames[] = {
      "Consume", "Forward", "ConsumeAndForward", "ForwardMulticast", "ConsumeAndForwardMulticast",
      "Drop"};
  return kNames[d.index()];
}

bool SelectiveRouter::should_consume(const DataPacket& p, const topology::TopologyState& s,
                                     const std::string& me) const {
  switch (p.direction) {
    case DataDirection::kUpward:
      return true;
    case DataDirection::kDownward:
      return (p.destination_node_id && *p.destination_node_id == me) || s.role == NodeRole::kLeader;
    case DataDirection::kLateral:
      if (p.destination_node_id) return *p.destination_node_id == me;
      return s.role == NodeRole::kLeader;
  }
  return false;
}

bool SelectiveRouter::should_forward(const DataPacket& p, const topology::TopologyState& s) const {
  switch (p.direction) {
    case DataDirection::kUpward:
      return s.selected_peer.has_value();
    case DataDirection::kDownward:
      return !s.linked_peers.empty();
    case DataDirection::kLateral:
      if (p.destination_node_id) return s.lateral_peers.count(*p.destination_node_id) > 0;
      return s.role == NodeRole::kLeader && !s.lateral_peers.empty();
  }
  return false;
}

namespace {
std::vector<std::string> dest_or_all(const std::optional<std::string>& dest,
                                     const std::map<std::string, Instant>& peers) {
  if (dest && peers.count(*dest)) return {*dest};
  std::vector<std::string> out;
  for (const auto& [id, seen] : peers) out.push_back(id);
  return out;
}
}  // namespace

std::vector<std::string> SelectiveRouter::next_hops_for(const DataPacket& p,
                                                        const topology::TopologyState& s) const {
  switch (p.direction) {
    case DataDirection::kUpward:
      if (s.selected_peer) return {s.selected_peer->node_id};
      return {};
    case DataDirection::kDownward:
      return dest_or_all(p.destination_node_id, s.linked_peers);
    case DataDirection::kLateral:
      return dest_or_all(p.destination_node_id, s.lateral_peers);
  }
  return {};
}

std::optional<std::string> SelectiveRouter::next_hop(const DataPacket& p,
                                                     const topology::TopologyState& s) const {
  auto hops = next_hops_for(p, s);
  if (hops.empty()) return std::nullopt;
  return hops.front();
}

RoutingDecision SelectiveRouter::route(const DataPacket& p, const topology::TopologyState& s,
                                       const std::string& me, Instant now) {
  if (dedup_.config().enabled && dedup_.check_and_record(p.packet_id, now)) {
    return decision::Drop{};
  }
  if (p.at_max_hops() || p.source_node_id == me) return decision::Drop{};
  const bool consume = should_consume(p, s, me);
  const bool forward = should_forward(p, s);
  if (forward) {
    auto hops = next_hops_for(p, s);
    if (consume) {
      if (hops.empty()) return decision::Consume{};
      if (hops.size() == 1) return decision::ConsumeAndForward{hops.front()};
      return decision::ConsumeAndForwardMulticast{std::move(hops)};
    }
    if (hops.empty()) return decision::Drop{};
    if (hops.size() == 1) return decision::Forward{hops.front()};
    return decision::ForwardMulticast{std::move(hops)};
  }
  if (consume) return decision::Consume{};
  return decision::Drop{};
}

bool SelectiveRouter::should_aggregate(const DataPacket& p, const RoutingDecision& d,
                                       const topology::TopologyState& s) {
  return std::holds_alternative<decision::ConsumeAndForward>(d) &&
         requires_aggregation(p.data_type) && s.role == NodeRole::kLeader;
}

}  // namespace peat::routing
