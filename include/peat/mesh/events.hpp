// Lifecycle states, events and the status snapshot of a PeatMesh.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>

namespace peat::mesh {

enum class MeshState : std::uint8_t { kCreated, kStarting, kRunning, kStopping, kStopped };
// "created", "starting", "running", "stopping", "stopped".
const char* to_string(MeshState state);

struct StateChanged {
  MeshState state;
};
// A peer finished the QUIC handshake and passed the formation gate (peer = its node id when
// known from discovery, else its device id hex).
struct PeerJoined {
  std::string peer;
};
struct PeerLeft {
  std::string peer;
  std::string reason;
};
struct TopologyChanged {
  std::string role;  // "standalone" (no peers), "peer" (connected), "stopped"
  std::size_t peer_count = 0;
};
enum class DocumentAction : std::uint8_t { kPut, kDeleted, kExpired };
const char* to_string(DocumentAction action);
struct DocumentChanged {
  std::string collection;
  std::string id;
  DocumentAction action = DocumentAction::kPut;
  bool from_peer = false;
};

using MeshEvent =
    std::variant<StateChanged, PeerJoined, PeerLeft, TopologyChanged, DocumentChanged>;

// The broker's JSON form (Rust MeshEvent, tagged by "type"): PeerConnected, PeerDisconnected,
// TopologyChanged, SyncEvent; StateChanged becomes {"type":"StateChanged","state":..}.
std::string to_json(const MeshEvent& event);

struct MeshStatus {
  MeshState state = MeshState::kCreated;
  std::size_t peer_count = 0;
  std::string node_id;
  std::chrono::seconds uptime{0};  // since the last start; 0 when not running
  bool sync_enabled = false;
  std::uint16_t quic_port = 0;    // bound port (0: none)
  std::uint16_t broker_port = 0;  // bound port (0: none)
  std::uint16_t lite_port = 0;    // bound Peat-Lite UDP port (0: no bridge)
};

}  // namespace peat::mesh
