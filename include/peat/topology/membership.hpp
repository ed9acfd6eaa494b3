// MeshMembership: the heartbeat + election protocol that forms a hierarchy among statically
// known nodes, sans-I/O (bytes in/out, `now` passed in).
//
// Every node periodically sends a heartbeat (JSON: id, group, score, claimed role). A peer is
// alive while its last heartbeat is younger than peer_timeout. From the alive set every node
// computes, for every group, the group leader, then the top leader among group leaders:
//   - best = highest score, ties broken by the smallest node id (deterministic);
//   - if some alive candidates currently claim the role, the incumbent is the best claimant, and
//     it keeps the role unless `best` beats it by more than the hysteresis (as in the Dynamic
//     strategy); otherwise `best` takes it.
// Claims make two leaders that meet after a partition heal converge on one. Levels follow the
// role: members Platform, group leaders Squad, the top leader Platoon.
//
// Partition: connected while alive nodes (self included) are more than quorum_fraction of the
// roster; the PartitionDetector's attempt/backoff schedule then declares or heals a partition,
// and an AutonomousOperationHandler tracks autonomous operation. While partitioned each side
// keeps electing its own leaders from whoever it can reach.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/common/result.hpp"
#include "peat/topology/partition.hpp"
#include "peat/topology/state.hpp"

namespace peat::topology {

struct MembershipConfig {
  std::string node_id;
  std::string group;
  double score = 0;  // e.g. election_score(profile, weights)
  // Distinguishes restarts of the same node (e.g. random at boot): a new incarnation restarts
  // the heartbeat sequence.
  std::uint64_t incarnation = 0;
  std::vector<std::string> roster;  // every other node this node knows of (static discovery)
  Duration heartbeat_interval = std::chrono::seconds(1);
  Duration peer_timeout = std::chrono::seconds(3);
  double hysteresis = 0.10;
  double quorum_fraction = 0.5;
  PartitionConfig partition;
};

struct Heartbeat {
  std::string node_id;
  std::string group;
  double score = 0;
  std::uint64_t incarnation = 0;
  std::uint64_t seq = 0;
  NodeRole role = NodeRole::kStandalone;
  bool top = false;
  bool partitioned = false;
};

Bytes encode_heartbeat(const Heartbeat& hb);
// Errors: "INVALID_HEARTBEAT".
Result<Heartbeat> decode_heartbeat(ByteView bytes);

namespace membership_event {
struct PeerUp {
  std::string node_id;
};
struct PeerDown {
  std::string node_id;
};
struct RoleChanged {
  NodeRole old_role, new_role;
  HierarchyLevel new_level;
};
struct GroupLeaderChanged {
  std::optional<std::string> old_leader, new_leader;
};
struct TopLeaderChanged {
  std::optional<std::string> old_leader, new_leader;
};
}  // namespace membership_event

using MembershipEvent =
    std::variant<membership_event::PeerUp, membership_event::PeerDown,
                 membership_event::RoleChanged, membership_event::GroupLeaderChanged,
                 membership_event::TopLeaderChanged, PartitionDetected, PartitionHealed>;

class MeshMembership {
 public:
  explicit MeshMembership(MembershipConfig config);

  // The next heartbeat to send to every peer.
  Bytes make_heartbeat();
  // Records a heartbeat received from transport peer `from`. Errors: "INVALID_HEARTBEAT",
  // "SENDER_MISMATCH" (claims another id), "UNKNOWN_PEER" (not in the roster), "STALE_HEARTBEAT"
  // (same incarnation and sequence not newer).
  Status on_heartbeat(const std::string& from, ByteView bytes, Instant now);
  // Expires silent peers, re-runs the elections and the partition check.
  std::vector<MembershipEvent> evaluate(Instant now);

  NodeRole role() const { return role_; }
  bool is_group_leader() const { return role_ == NodeRole::kLeader; }
  bool is_top_leader() const { return top_leader_ == config_.node_id; }
  HierarchyLevel level() const;
  const std::optional<std::string>& group_leader() const { return group_leader_; }
  const std::optional<std::string>& top_leader() const { return top_leader_; }
  bool is_partitioned() const { return detector_.is_partitioned(); }
  bool is_autonomous() const { return autonomous_.is_autonomous(); }
  std::vector<std::string> alive_peers() const;
  std::optional<std::string> group_of(const std::string& node_id) const;
  // Parent, children and lateral peers for the router (see docs/topology.md).
  TopologyState topology_state() const;
  const MembershipConfig& config() const { return config_; }

 private:
  struct Peer {
    Heartbeat last;
    Instant last_seen{};
    bool alive = false;
  };
  struct Candidate {
    std::string id;
    double score;
    bool claims;
  };
  std::optional<std::string> elect(const std::vector<Candidate>& candidates) const;

  MembershipConfig config_;
  std::set<std::string> roster_;
  std::map<std::string, Peer> peers_;
  std::uint64_t seq_ = 0;
  NodeRole role_ = NodeRole::kStandalone;
  std::optional<std::string> group_leader_;
  std::optional<std::string> top_leader_;
  std::map<std::string, std::string> leaders_by_group_;
  PartitionDetector detector_;
  AutonomousOperationHandler autonomous_;
};

}  // namespace peat::topology
