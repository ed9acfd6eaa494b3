// The engine's view of this node's place in the hierarchy, and which way each propagation
// direction (spec 1.10) lets data flow with a peer of a given role.
//
// A real node fills SyncTopology from peat::topology (the selected parent and the linked
// children); every other connected peer is lateral. Without a view the mesh is flat: every
// direction flows both ways with every peer.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "peat/sync/wire.hpp"

namespace peat::sync {

struct SyncTopology {
  std::optional<std::string> parent;  // transport PeerId of the parent (none at the root)
  std::set<std::string> children;     // transport PeerIds of the children
  bool operator==(const SyncTopology&) const = default;
};

enum class PeerRole : std::uint8_t { kFlat, kParent, kChild, kLateral };
const char* to_string(PeerRole role);

// kFlat without a view; kParent / kChild / kLateral otherwise (a peer named both parent and
// child counts as the parent).
PeerRole role_of(const std::optional<SyncTopology>& topology, const std::string& peer);

// What may cross the link to a peer of `role` for data of direction `d`:
//   Bidirectional, SystemWide: both ways with everyone.
//   UpOnly:   to the parent (send only), from children (receive only); nothing laterally.
//   DownOnly: to children (send only), from the parent (receive only); nothing laterally.
//   kFlat: both ways for every direction.
struct DirectionFlow {
  bool send = true;
  bool receive = true;
  bool any() const { return send || receive; }
  bool operator==(const DirectionFlow&) const = default;
};
DirectionFlow flow_for(PropagationDirection d, PeerRole role);

}  // namespace peat::sync
