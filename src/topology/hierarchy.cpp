#include "peat/topology/hierarchy.hpp"

#include <algorithm>
#include <cstdlib>

namespace peat::topology {

using beacon::NodeMobility;

const char* to_string(NodeRole role) {
  switch (role) {
    case NodeRole::kLeader:
      return "Leader";
    case NodeRole::kMember:
      return "Member";
    case NodeRole::kStandalone:
      return "Standalone";
  }
  return "Standalone";
}

Result<NodeRole> parse_role(std::string_view text) {
  for (auto r : {NodeRole::kLeader, NodeRole::kMember, NodeRole::kStandalone}) {
    if (text == to_string(r)) return r;
  }
  return make_error("INVALID_ROLE", "unknown node role: " + std::string(text));
}

namespace {

double mobility_factor(NodeMobility m) {
  switch (m) {
    case NodeMobility::kStatic:
      return 1.0;
    case NodeMobility::kSemiMobile:
      return 0.6;
    case NodeMobility::kMobile:
      return 0.3;
  }
  return 0.5;
}

double resource_factor(const beacon::NodeResources& r) {
  return ((1.0 - r.cpu_usage_percent / 100.0) + (1.0 - r.memory_usage_percent / 100.0)) / 2.0;
}

double battery_factor(const beacon::NodeResources& r) {
  return r.battery_percent ? *r.battery_percent / 100.0 : 1.0;
}

double multipliers(double score, bool can_parent, std::uint8_t priority) {
  if (can_parent) score *= 1.1;
  return score * (1.0 + priority / 255.0);
}

NodeRole elect(double own, const std::vector<GeographicBeacon>& same_level,
               const ElectionConfig& config) {
  if (same_level.empty()) return NodeRole::kStandalone;
  double best = 0;
  for (const auto& b : same_level) best = std::max(best, election_score(b, config.weights));
  return own >= best * (1.0 + config.hysteresis) ? NodeRole::kLeader : NodeRole::kMember;
}

std::vector<GeographicBeacon> at_level(const std::vector<GeographicBeacon>& nearby,
                                       HierarchyLevel level) {
  std::vector<GeographicBeacon> out;
  for (const auto& b : nearby) {
    if (b.hierarchy_level == level) out.push_back(b);
  }
  return out;
}

}  // namespace

double election_score(const NodeProfile& p, const ElectionWeights& w) {
  const double s = mobility_factor(p.mobility) * w.mobility +
                   resource_factor(p.resources) * w.resources +
                   battery_factor(p.resources) * w.battery;
  return multipliers(s, p.can_parent, p.parent_priority);
}

double election_score(const GeographicBeacon& b, const ElectionWeights& w) {
  double s = b.mobility ? mobility_factor(*b.mobility) * w.mobility : 0.5 * w.mobility;
  if (b.resources) {
    s += resource_factor(*b.resources) * w.resources + battery_factor(*b.resources) * w.battery;
  } else {
    s += 0.5 * (w.resources + w.battery);
  }
  return multipliers(s, b.can_parent, b.parent_priority);
}

NodeRole DynamicStrategy::determine_role(const NodeProfile& profile,
                                         const std::vector<GeographicBeacon>& nearby) const {
  return elect(election_score(profile, config_.weights), at_level(nearby, base_), config_);
}

HybridStrategy HybridStrategy::with_static_level_dynamic_role(HierarchyLevel level,
                                                              ElectionConfig config) {
  return HybridStrategy(level, NodeRole::kMember, config, TransitionRules{false, false, 0, 0, 0});
}

HybridStrategy HybridStrategy::with_adaptive_promotion(HierarchyLevel level, NodeRole role,
                                                       ElectionConfig config) {
  return HybridStrategy(level, role, config, TransitionRules{true, false, 1, 0, 2});
}

NodeRole HybridStrategy::determine_role(const NodeProfile& profile,
                                        const std::vector<GeographicBeacon>& nearby) const {
  auto peers = at_level(nearby, level_);
  if (peers.empty()) return role_;
  return elect(election_score(profile, config_.weights), peers, config_);
}

bool HybridStrategy::can_transition(HierarchyLevel current, HierarchyLevel next) const {
  const int c = static_cast<int>(current);
  const int n = static_cast<int>(next);
  if (n == c) return true;
  if (n > c) return rules_.allow_promotion && n - c <= rules_.max_promotion_levels;
  return rules_.allow_demotion && c - n <= rules_.max_demotion_levels;
}

bool HybridStrategy::should_promote(const std::vector<GeographicBeacon>& nearby) const {
  if (!rules_.allow_promotion) return false;
  auto parent = beacon::parent_level(level_);
  if (!parent) return false;
  if (!at_level(nearby, *parent).empty()) return false;
  return at_level(nearby, level_).size() >= rules_.min_peers_for_promotion;
}

bool HybridStrategy::should_demote(const std::vector<GeographicBeacon>& nearby) const {
  if (!rules_.allow_demotion) return false;
  auto parent = beacon::parent_level(level_);
  return parent && at_level(nearby, *parent).size() >= 2;
}

}  // namespace peat::topology
