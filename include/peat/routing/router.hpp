// SelectiveRouter: decides, for one packet at one node, whether to consume it and where to
// forward it, from the node's TopologyState (parent, children, lateral peers, role).
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "peat/routing/dedup.hpp"
#include "peat/routing/packet.hpp"
#include "peat/topology/state.hpp"

namespace peat::routing {

namespace decision {
struct Consume {};
struct Forward {
  std::string next_hop;
};
struct ConsumeAndForward {
  std::string next_hop;
};
struct ForwardMulticast {
  std::vector<std::string> next_hops;
};
struct ConsumeAndForwardMulticast {
  std::vector<std::string> next_hops;
};
struct Drop {};
}  // namespace decision

using RoutingDecision =
    std::variant<decision::Consume, decision::Forward, decision::ConsumeAndForward,
                 decision::ForwardMulticast, decision::ConsumeAndForwardMulticast, decision::Drop>;

bool consumes(const RoutingDecision& d);
std::vector<std::string> next_hops(const RoutingDecision& d);
const char* to_string(const RoutingDecision& d);

class SelectiveRouter {
 public:
  // Without de-duplication (as the reference's default constructor).
  SelectiveRouter() : dedup_(DeduplicationConfig{false, {}, 0}) {}
  explicit SelectiveRouter(DeduplicationConfig dedup) : dedup_(dedup) {}

  // Order: duplicate => Drop; at max hops => Drop; own packet => Drop; then by direction.
  // The router never increments hop_count (the caller does, before sending).
  RoutingDecision route(const DataPacket& packet, const topology::TopologyState& state,
                        const std::string& this_node_id, Instant now);

  bool should_consume(const DataPacket& packet, const topology::TopologyState& state,
                      const std::string& this_node_id) const;
  bool should_forward(const DataPacket& packet, const topology::TopologyState& state) const;
  std::vector<std::string> next_hops_for(const DataPacket& packet,
                                         const topology::TopologyState& state) const;
  // Single hop: the destination if tracked, else the first linked/lateral peer (map order).
  std::optional<std::string> next_hop(const DataPacket& packet,
                                      const topology::TopologyState& state) const;
  // Unicast ConsumeAndForward of Telemetry/Status at a Leader.
  static bool should_aggregate(const DataPacket& packet, const RoutingDecision& decision,
                               const topology::TopologyState& state);

  DeduplicationCache& dedup() { return dedup_; }
  const DeduplicationCache& dedup() const { return dedup_; }

 private:
  DeduplicationCache dedup_;
};

}  // namespace peat::routing
