// TopologyState (who this node's parent, children and lateral peers are) and TopologyEvent.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>

#include "peat/beacon/types.hpp"
#include "peat/common/clock.hpp"
#include "peat/topology/hierarchy.hpp"

namespace peat::topology {

struct SelectedPeer {
  std::string node_id;
  GeographicBeacon beacon;
  Instant selected_at{};
  Instant last_seen{};  // the reference times out from selection; this port from last seen
};

struct TopologyState {
  std::optional<SelectedPeer> selected_peer;     // parent
  std::map<std::string, Instant> linked_peers;   // children (lower level), by last seen
  std::map<std::string, Instant> lateral_peers;  // same level, by last seen
  NodeRole role = NodeRole::kStandalone;
  HierarchyLevel hierarchy_level = HierarchyLevel::kSquad;
};

namespace event {
struct PeerSelected {
  std::string node_id;
  GeographicBeacon beacon;
};
struct PeerChanged {
  std::string old_peer_id;
  std::string new_peer_id;
  GeographicBeacon new_beacon;
};
struct PeerLost {
  std::string node_id;
};
struct PeerAdded {
  std::string linked_peer_id;
};
struct PeerRemoved {
  std::string linked_peer_id;
};
struct LateralPeerDiscovered {
  std::string peer_id;
  GeographicBeacon beacon;
};
struct LateralPeerLost {
  std::string peer_id;
};
struct RoleChanged {
  NodeRole old_role;
  NodeRole new_role;
};
struct LevelChanged {
  HierarchyLevel old_level;
  HierarchyLevel new_level;
};
}  // namespace event

using TopologyEvent =
    std::variant<event::PeerSelected, event::PeerChanged, event::PeerLost, event::PeerAdded,
                 event::PeerRemoved, event::LateralPeerDiscovered, event::LateralPeerLost,
                 event::RoleChanged, event::LevelChanged>;

// "PeerSelected", "PeerChanged", ... (the metrics event-counter keys).
const char* event_name(const TopologyEvent& event);

}  // namespace peat::topology
