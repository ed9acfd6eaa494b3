#include "peat/topology/membership.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "beacon/json_util.hpp"

namespace peat::topology {

Bytes encode_heartbeat(const Heartbeat& hb) {
  nlohmann::ordered_json j;
  j["type"] = "heartbeat";
  j["node_id"] = hb.node_id;
  j["group"] = hb.group;
  j["score"] = hb.score;
  j["incarnation"] = hb.incarnation;
  j["seq"] = hb.seq;
  j["role"] = to_string(hb.role);
  j["top"] = hb.top;
  j["partitioned"] = hb.partitioned;
  return to_bytes(j.dump());
}

Result<Heartbeat> decode_heartbeat(ByteView bytes) {
  auto j = nlohmann::json::parse(as_chars(bytes), nullptr, false);
  if (j.is_discarded()) return make_error("INVALID_HEARTBEAT", "heartbeat is not valid JSON");
  beacon::detail::JsonReader r(j, "heartbeat", "INVALID_HEARTBEAT");
  std::string type, role;
  Heartbeat hb;
  r.required_string("type", type);
  r.required_string("node_id", hb.node_id);
  r.required_string("group", hb.group);
  r.required_double("score", hb.score);
  r.required_uint("incarnation", hb.incarnation);
  r.required_uint("seq", hb.seq);
  r.required_string("role", role);
  r.required_bool("top", hb.top);
  r.required_bool("partitioned", hb.partitioned);
  if (!r.ok()) return r.error();
  if (type != "heartbeat") return make_error("INVALID_HEARTBEAT", "not a heartbeat: " + type);
  if (!std::isfinite(hb.score)) return make_error("INVALID_HEARTBEAT", "score is not finite");
  auto parsed = parse_role(role);
  if (!parsed) return make_error("INVALID_HEARTBEAT", parsed.error().message);
  hb.role = parsed.value();
  return hb;
}

MeshMembership::MeshMembership(MembershipConfig config)
    : config_(std::move(config)),
      roster_(config_.roster.begin(), config_.roster.end()),
      detector_(HierarchyLevel::kPlatform, config_.partition) {
  roster_.erase(config_.node_id);
  detector_.set_handler(&autonomous_);
}

Bytes MeshMembership::make_heartbeat() {
  return encode_heartbeat({config_.node_id, config_.group, config_.score, config_.incarnation,
                           ++seq_, role_, is_top_leader(), is_partitioned()});
}

Status MeshMembership::on_heartbeat(const std::string& from, ByteView bytes, Instant now) {
  auto hb = decode_heartbeat(bytes);
  if (!hb) return hb.error();
  if (hb->node_id != from) {
    return make_error("SENDER_MISMATCH", "heartbeat from " + from + " claims " + hb->node_id);
  }
  if (!roster_.count(hb->node_id)) {
    return make_error("UNKNOWN_PEER", "heartbeat from " + hb->node_id + " not in the roster");
  }
  auto& peer = peers_[hb->node_id];
  // A restarted peer (new incarnation) starts its sequence again; so may one declared dead.
  if (peer.alive && hb->incarnation == peer.last.incarnation && hb->seq <= peer.last.seq) {
    return make_error("STALE_HEARTBEAT", "heartbeat sequence not newer");
  }
  peer.last = std::move(hb.value());
  peer.last_seen = now;
  return {};
}

std::optional<std::string> MeshMembership::elect(const std::vector<Candidate>& cands) const {
  if (cands.empty()) return std::nullopt;
  auto better = [](const Candidate& a, const Candidate& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  };
  const Candidate* best = &cands.front();
  const Candidate* incumbent = nullptr;
  for (const auto& c : cands) {
    if (better(c, *best)) best = &c;
    if (c.claims && (!incumbent || better(c, *incumbent))) incumbent = &c;
  }
  if (incumbent && incumbent->score * (1.0 + config_.hysteresis) >= best->score) {
    return incumbent->id;
  }
  return best->id;
}

HierarchyLevel MeshMembership::level() const {
  if (is_top_leader()) return HierarchyLevel::kPlatoon;
  if (role_ == NodeRole::kLeader) return HierarchyLevel::kSquad;
  return HierarchyLevel::kPlatform;
}

std::vector<MembershipEvent> MeshMembership::evaluate(Instant now) {
  std::vector<MembershipEvent> events;
  for (auto& [id, p] : peers_) {
    const bool alive = now - p.last_seen < config_.peer_timeout;
    if (alive && !p.alive) events.push_back(membership_event::PeerUp{id});
    if (!alive && p.alive) events.push_back(membership_event::PeerDown{id});
    p.alive = alive;
  }

  // Group leaders, for every group visible.
  std::map<std::string, std::vector<Candidate>> groups;
  groups[config_.group].push_back({config_.node_id, config_.score, role_ == NodeRole::kLeader});
  for (const auto& [id, p] : peers_) {
    if (!p.alive) continue;
    groups[p.last.group].push_back({id, p.last.score, p.last.role == NodeRole::kLeader});
  }
  leaders_by_group_.clear();
  std::vector<Candidate> leaders;
  for (const auto& [g, cands] : groups) {
    auto leader = elect(cands);
    leaders_by_group_[g] = *leader;
    for (const auto& c : cands) {
      if (c.id == *leader) {
        const bool claims_top =
            c.id == config_.node_id ? is_top_leader() : peers_.at(c.id).last.top;
        leaders.push_back({c.id, c.score, claims_top});
      }
    }
  }
  auto top = elect(leaders);
  const auto& my_leader = leaders_by_group_.at(config_.group);

  const bool single = groups.size() == 1 && groups.begin()->second.size() == 1;
  const NodeRole new_role = single                         ? NodeRole::kStandalone
                            : my_leader == config_.node_id ? NodeRole::kLeader
                                                           : NodeRole::kMember;
  const auto old_level = level();
  const auto old_role = role_;
  if (group_leader_ != my_leader) {
    events.push_back(membership_event::GroupLeaderChanged{group_leader_, my_leader});
    group_leader_ = my_leader;
  }
  if (top_leader_ != top) {
    events.push_back(membership_event::TopLeaderChanged{top_leader_, top});
    top_leader_ = top;
  }
  role_ = new_role;
  if (old_role != role_ || old_level != level()) {
    events.push_back(membership_event::RoleChanged{old_role, role_, level()});
  }

  std::size_t alive = 1;
  for (const auto& [id, p] : peers_) alive += p.alive ? 1 : 0;
  const double total = static_cast<double>(roster_.size() + 1);
  const bool connected = static_cast<double>(alive) > config_.quorum_fraction * total;
  if (auto e = detector_.check(connected, alive, now)) {
    std::visit([&](const auto& ev) { events.push_back(ev); }, *e);
  }
  return events;
}

std::vector<std::string> MeshMembership::alive_peers() const {
  std::vector<std::string> out;
  for (const auto& [id, p] : peers_) {
    if (p.alive) out.push_back(id);
  }
  return out;
}

std::optional<std::string> MeshMembership::group_of(const std::string& node_id) const {
  if (node_id == config_.node_id) return config_.group;
  auto it = peers_.find(node_id);
  if (it == peers_.end()) return std::nullopt;
  return it->second.last.group;
}

TopologyState MeshMembership::topology_state() const {
  TopologyState s;
  s.role = role_;
  s.hierarchy_level = level();
  auto seen = [&](const std::string& id) { return peers_.at(id).last_seen; };
  auto add_parent = [&](const std::optional<std::string>& id) {
    if (!id || *id == config_.node_id) return;
    SelectedPeer p;
    p.node_id = *id;
    p.beacon.node_id = *id;
    p.last_seen = p.selected_at = seen(*id);
    s.selected_peer = p;
  };
  if (role_ == NodeRole::kMember) {
    add_parent(group_leader_);
    for (const auto& [id, p] : peers_) {
      if (p.alive && p.last.group == config_.group) s.lateral_peers[id] = p.last_seen;
    }
  } else if (role_ == NodeRole::kLeader) {
    if (!is_top_leader()) add_parent(top_leader_);
    for (const auto& [id, p] : peers_) {
      if (!p.alive) continue;
      if (p.last.group == config_.group) {
        s.linked_peers[id] = p.last_seen;
      } else if (leaders_by_group_.count(p.last.group) &&
                 leaders_by_group_.at(p.last.group) == id) {
        // Other group leaders: children of the top leader, lateral peers of the others.
        if (is_top_leader()) {
          s.linked_peers[id] = p.last_seen;
        } else if (top_leader_ != id) {
          s.lateral_peers[id] = p.last_seen;
        }
      }
    }
  }
  return s;
}

}  // namespace peat::topology
