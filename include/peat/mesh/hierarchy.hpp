// The node's place in a command hierarchy (docs/node.md "Hierarchy"): each node may name its
// parent (MeshConfig::parent, PEAT_PARENT) and tells every peer it connects to whom it named,
// so a node knows its parent (the connected peer of that node id) and its children (connected
// peers that named it). The sync engine then routes by collection direction (docs/sync.md 2.2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"

namespace peat::mesh {

// Parent announcement on Channel::kControl (shared with the certificate gate's "PCG1"):
//   "PTA1" ‖ flags u8 ‖ parent_len u8 ‖ parent (parent_len bytes, a node id; 0 = no parent)
// flags bit 0: reply requested (the sender has not heard the receiver's announcement yet);
// the other bits are zero. Exactly 6 + parent_len bytes.
inline constexpr std::size_t kParentAnnouncementHeader = 6;
inline constexpr std::uint8_t kAnnounceReplyRequested = 0x01;

struct ParentAnnouncement {
  std::optional<std::string> parent;
  bool reply_requested = false;
  bool operator==(const ParentAnnouncement&) const = default;
};

// The parent must be a valid node id (is_valid_node_id) when set.
Bytes encode_parent_announcement(const ParentAnnouncement& announcement);
// True when `bytes` starts with the announcement's tag.
bool is_parent_announcement(ByteView bytes);
// SERIALIZATION_ERROR "parent announcement: …" on a wrong tag, unknown flag bits, a length
// that does not match, an empty-but-flagged or invalid node id.
Result<ParentAnnouncement> decode_parent_announcement(ByteView bytes);

// What this node knows of its place (node ids). `role`: "root" (no parent, has children),
// "member" (parent and children), "leaf" (parent, no children); without a parent and without
// children the mesh is flat and the role is the flat one ("standalone" or "peer").
struct HierarchyView {
  std::optional<std::string> parent;  // configured parent
  bool parent_connected = false;
  std::vector<std::string> children;  // connected peers that named this node, sorted
  std::string role;
  bool active = false;  // a topology view is given to the sync engine
};

}  // namespace peat::mesh
