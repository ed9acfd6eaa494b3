// Hierarchy roles and the strategies that decide a node's level and role (Rust: hierarchy/).
// Levels are peat::beacon::HierarchyLevel (Platform < Squad < Platoon < Company).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "peat/beacon/types.hpp"
#include "peat/common/result.hpp"

namespace peat::topology {

using beacon::GeographicBeacon;
using beacon::HierarchyLevel;
using beacon::NodeProfile;

enum class NodeRole : std::uint8_t { kLeader, kMember, kStandalone };
const char* to_string(NodeRole role);
Result<NodeRole> parse_role(std::string_view text);

struct ElectionWeights {
  double mobility = 0.4;
  double resources = 0.4;
  double battery = 0.2;
};

struct ElectionConfig {
  ElectionWeights weights;
  double hysteresis = 0.10;  // a leader must beat the best peer by this fraction
};

// Leadership score of a node from its own profile:
// mobility {Static 1.0, SemiMobile 0.6, Mobile 0.3}, resources = mean free CPU and memory,
// battery fraction (1.0 on mains); x1.1 if it can parent; x(1 + priority/255).
double election_score(const NodeProfile& profile, const ElectionWeights& weights);
// The same score computed from a peer's beacon (missing mobility => 0.5; missing resources =>
// 0.5 for both the resource and battery terms).
double election_score(const GeographicBeacon& beacon, const ElectionWeights& weights);

class HierarchyStrategy {
 public:
  virtual ~HierarchyStrategy() = default;
  virtual HierarchyLevel determine_level(const NodeProfile& profile) const = 0;
  virtual NodeRole determine_role(const NodeProfile& profile,
                                  const std::vector<GeographicBeacon>& nearby) const = 0;
  virtual bool can_transition(HierarchyLevel current, HierarchyLevel next) const = 0;
};

// Fixed level and role; never transitions.
class StaticStrategy final : public HierarchyStrategy {
 public:
  StaticStrategy(HierarchyLevel level, NodeRole role) : level_(level), role_(role) {}
  HierarchyLevel determine_level(const NodeProfile&) const override { return level_; }
  NodeRole determine_role(const NodeProfile&, const std::vector<GeographicBeacon>&) const override {
    return role_;
  }
  bool can_transition(HierarchyLevel, HierarchyLevel) const override { return false; }

 private:
  HierarchyLevel level_;
  NodeRole role_;
};

// Level fixed at base_level; role by election among same-level peers: Standalone with no peers,
// Leader iff own score >= best peer score x (1 + hysteresis), else Member (so nodes within the
// hysteresis band of each other are all Members, as in the reference).
class DynamicStrategy final : public HierarchyStrategy {
 public:
  DynamicStrategy(HierarchyLevel base_level, ElectionConfig config = {},
                  bool allow_level_transitions = false)
      : base_(base_level), config_(config), allow_(allow_level_transitions) {}
  HierarchyLevel determine_level(const NodeProfile&) const override { return base_; }
  NodeRole determine_role(const NodeProfile& profile,
                          const std::vector<GeographicBeacon>& nearby) const override;
  bool can_transition(HierarchyLevel, HierarchyLevel) const override { return allow_; }

 private:
  HierarchyLevel base_;
  ElectionConfig config_;
  bool allow_;
};

struct TransitionRules {
  bool allow_promotion = true;
  bool allow_demotion = true;
  std::uint8_t max_promotion_levels = 1;
  std::uint8_t max_demotion_levels = 1;
  std::size_t min_peers_for_promotion = 0;
};

// Baseline level; baseline role when alone, otherwise the dynamic election. Level transitions
// follow TransitionRules.
class HybridStrategy final : public HierarchyStrategy {
 public:
  HybridStrategy(HierarchyLevel baseline_level, NodeRole baseline_role, ElectionConfig config = {},
                 TransitionRules rules = {})
      : level_(baseline_level), role_(baseline_role), config_(config), rules_(rules) {}
  // Member when alone, no transitions.
  static HybridStrategy with_static_level_dynamic_role(HierarchyLevel level,
                                                       ElectionConfig config = {});
  // Promotion by one level allowed (needs 2 same-level peers), no demotion.
  static HybridStrategy with_adaptive_promotion(HierarchyLevel level, NodeRole role,
                                                ElectionConfig config = {});

  HierarchyLevel determine_level(const NodeProfile&) const override { return level_; }
  NodeRole determine_role(const NodeProfile& profile,
                          const std::vector<GeographicBeacon>& nearby) const override;
  bool can_transition(HierarchyLevel current, HierarchyLevel next) const override;
  // Promote when allowed, a parent level exists, no peer at exactly that level is visible and
  // enough same-level peers are. Demote when allowed and >= 2 peers at the parent level exist.
  bool should_promote(const std::vector<GeographicBeacon>& nearby) const;
  bool should_demote(const std::vector<GeographicBeacon>& nearby) const;
  const TransitionRules& rules() const { return rules_; }

 private:
  HierarchyLevel level_;
  NodeRole role_;
  ElectionConfig config_;
  TransitionRules rules_;
};

}  // namespace peat::topology
