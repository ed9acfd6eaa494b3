#include "peat/mesh/events.hpp"

#include <nlohmann/json.hpp>

namespace peat::mesh {

const char* to_string(MeshState state) {
  switch (state) {
    case MeshState::kCreated:
      return "created";
    case MeshState::kStarting:
      return "starting";
    case MeshState::kRunning:
      return "running";
    case MeshState::kStopping:
      return "stopping";
    case MeshState::kStopped:
      return "stopped";
  }
  return "created";
}

const char* to_string(DocumentAction action) {
  switch (action) {
    case DocumentAction::kPut:
      return "put";
    case DocumentAction::kDeleted:
      return "deleted";
    case DocumentAction::kExpired:
      return "expired";
  }
  return "put";
}

namespace {

struct ToJson {
  nlohmann::json operator()(const StateChanged& e) const {
    return {{"type", "StateChanged"}, {"state", to_string(e.state)}};
  }
  nlohmann::json operator()(const PeerJoined& e) const {
    return {{"type", "PeerConnected"}, {"peer_id", e.peer}};
  }
  nlohmann::json operator()(const PeerLeft& e) const {
    return {{"type", "PeerDisconnected"}, {"peer_id", e.peer}, {"reason", e.reason}};
  }
  nlohmann::json operator()(const TopologyChanged& e) const {
    return {{"type", "TopologyChanged"}, {"new_role", e.role}, {"peer_count", e.peer_count}};
  }
  nlohmann::json operator()(const DocumentChanged& e) const {
    return {{"type", "SyncEvent"},
            {"collection", e.collection},
            {"doc_id", e.id},
            {"action", to_string(e.action)}};
  }
};

}  // namespace

std::string to_json(const MeshEvent& event) {
  return std::visit(ToJson{}, event).dump();
}

}  // namespace peat::mesh
