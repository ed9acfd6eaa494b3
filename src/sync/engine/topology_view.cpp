#include "peat/sync/topology_view.hpp"

namespace peat::sync {

const char* to_string(PeerRole role) {
  switch (role) {
    case PeerRole::kFlat:
      return "flat";
    case PeerRole::kParent:
      return "parent";
    case PeerRole::kChild:
      return "child";
    case PeerRole::kLateral:
      return "lateral";
  }
  return "?";
}

PeerRole role_of(const std::optional<SyncTopology>& topology, const std::string& peer) {
  if (!topology) return PeerRole::kFlat;
  if (topology->parent && *topology->parent == peer) return PeerRole::kParent;
  if (topology->children.count(peer)) return PeerRole::kChild;
  return PeerRole::kLateral;
}

DirectionFlow flow_for(PropagationDirection d, PeerRole role) {
  if (role == PeerRole::kFlat) return {true, true};
  switch (d) {
    case PropagationDirection::kBidirectional:
    case PropagationDirection::kSystemWide:
      return {true, true};
    case PropagationDirection::kUpOnly:
      if (role == PeerRole::kParent) return {true, false};
      if (role == PeerRole::kChild) return {false, true};
      return {false, false};
    case PropagationDirection::kDownOnly:
      if (role == PeerRole::kChild) return {true, false};
      if (role == PeerRole::kParent) return {false, true};
      return {false, false};
  }
  return {false, false};
}

}  // namespace peat::sync
