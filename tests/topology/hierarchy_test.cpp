#include "peat/topology/hierarchy.hpp"

#include <gtest/gtest.h>

using namespace peat::topology;
using peat::beacon::GeoPosition;
using peat::beacon::NodeMobility;
using peat::beacon::NodeResources;

namespace {
NodeProfile profile(NodeMobility m, std::uint8_t cpu, std::uint8_t mem,
                    std::optional<std::uint8_t> battery, std::uint8_t priority = 100) {
  return NodeProfile{m, NodeResources{8, 4096, 100, cpu, mem, battery}, true, false, priority};
}

GeographicBeacon beacon_of(const std::string& id, const NodeProfile& p,
                           HierarchyLevel level = HierarchyLevel::kSquad) {
  auto b = GeographicBeacon::make(id, GeoPosition{37.77, -122.41, std::nullopt}, level, 0);
  b.apply_profile(p);
  return b;
}

const NodeProfile kStrong = profile(NodeMobility::kStatic, 20, 50, std::nullopt);
const NodeProfile kMid = profile(NodeMobility::kSemiMobile, 40, 50, 80);
const NodeProfile kWeak = profile(NodeMobility::kMobile, 70, 50, 30);
}  // namespace

TEST(ElectionScore, FormulaFromProfileAndBeacon) {
  ElectionWeights w;
  NodeProfile p{NodeMobility::kStatic, NodeResources{4, 1024, 10, 20, 40, std::nullopt}, false,
                false, 0};
  EXPECT_DOUBLE_EQ(election_score(p, w), 1.0 * 0.4 + 0.7 * 0.4 + 1.0 * 0.2);
  p.can_parent = true;
  p.parent_priority = 255;
  EXPECT_DOUBLE_EQ(election_score(p, w), (0.4 + 0.28 + 0.2) * 1.1 * 2.0);
  auto b = GeographicBeacon::make("x", GeoPosition{}, HierarchyLevel::kSquad, 0);
  EXPECT_DOUBLE_EQ(election_score(b, w), 0.5 * 0.4 + 0.5 * (0.4 + 0.2));
  b.apply_profile(p);
  EXPECT_DOUBLE_EQ(election_score(b, w), election_score(p, w));
}

TEST(DynamicStrategyTest, ThreeNodeElectionAndLeaderLeaving) {
  DynamicStrategy s(HierarchyLevel::kSquad);
  auto a = beacon_of("a", kStrong), b = beacon_of("b", kMid), c = beacon_of("c", kWeak);
  EXPECT_EQ(s.determine_role(kStrong, {b, c}), NodeRole::kLeader);
  EXPECT_EQ(s.determine_role(kMid, {a, c}), NodeRole::kMember);
  EXPECT_EQ(s.determine_role(kWeak, {a, b}), NodeRole::kMember);
  // Leader leaves: the semi-mobile node takes over.
  EXPECT_EQ(s.determine_role(kMid, {c}), NodeRole::kLeader);
  EXPECT_EQ(s.determine_role(kWeak, {b}), NodeRole::kMember);
  EXPECT_EQ(s.determine_role(kWeak, {}), NodeRole::kStandalone);
  // Beacons at other levels do not count.
  EXPECT_EQ(s.determine_role(kWeak, {beacon_of("p", kStrong, HierarchyLevel::kPlatoon)}),
            NodeRole::kStandalone);
  EXPECT_EQ(s.determine_level(kWeak), HierarchyLevel::kSquad);
  EXPECT_FALSE(s.can_transition(HierarchyLevel::kSquad, HierarchyLevel::kPlatoon));
  EXPECT_TRUE(DynamicStrategy(HierarchyLevel::kSquad, {}, true)
                  .can_transition(HierarchyLevel::kSquad, HierarchyLevel::kPlatoon));
}

TEST(DynamicStrategyTest, HysteresisBand) {
  DynamicStrategy s(HierarchyLevel::kSquad);
  auto p25 = profile(NodeMobility::kStatic, 25, 50, std::nullopt);
  auto p30 = profile(NodeMobility::kStatic, 30, 50, std::nullopt);
  EXPECT_EQ(s.determine_role(p25, {beacon_of("o", p30)}), NodeRole::kMember);
  auto much_better = profile(NodeMobility::kStatic, 10, 15, std::nullopt, 200);
  EXPECT_EQ(s.determine_role(much_better, {beacon_of("o", p30)}), NodeRole::kLeader);
}

TEST(DynamicStrategyTest, FiveNodesConvergeToOneLeader) {
  DynamicStrategy s(HierarchyLevel::kSquad);
  std::vector<NodeProfile> ps = {kStrong, kMid, kWeak, profile(NodeMobility::kMobile, 60, 60, 50),
                                 profile(NodeMobility::kSemiMobile, 50, 60, 40)};
  int leaders = 0;
  for (std::size_t i = 0; i < ps.size(); ++i) {
    std::vector<GeographicBeacon> others;
    for (std::size_t j = 0; j < ps.size(); ++j) {
      if (j != i) others.push_back(beacon_of("n" + std::to_string(j), ps[j]));
    }
    const auto role = s.determine_role(ps[i], others);
    if (role == NodeRole::kLeader) {
      ++leaders;
      EXPECT_EQ(i, 0u);
    }
  }
  EXPECT_EQ(leaders, 1);
}

TEST(StaticStrategyTest, FixedAndNoTransitions) {
  StaticStrategy s(HierarchyLevel::kPlatoon, NodeRole::kMember);
  EXPECT_EQ(s.determine_role(kStrong, {beacon_of("w", kWeak, HierarchyLevel::kPlatoon)}),
            NodeRole::kMember);
  EXPECT_EQ(s.determine_level(kStrong), HierarchyLevel::kPlatoon);
  EXPECT_FALSE(s.can_transition(HierarchyLevel::kPlatoon, HierarchyLevel::kPlatoon));
  EXPECT_FALSE(s.can_transition(HierarchyLevel::kPlatoon, HierarchyLevel::kCompany));
}

TEST(HybridStrategyTest, StaticLevelDynamicRole) {
  auto s = HybridStrategy::with_static_level_dynamic_role(HierarchyLevel::kSquad);
  EXPECT_EQ(s.determine_role(kStrong, {beacon_of("w", kWeak)}), NodeRole::kLeader);
  EXPECT_EQ(s.determine_role(kWeak, {beacon_of("s", kStrong)}), NodeRole::kMember);
  EXPECT_EQ(s.determine_role(kWeak, {}), NodeRole::kMember);
  EXPECT_EQ(s.determine_level(kStrong), HierarchyLevel::kSquad);
  EXPECT_FALSE(s.can_transition(HierarchyLevel::kSquad, HierarchyLevel::kPlatoon));
  EXPECT_TRUE(s.can_transition(HierarchyLevel::kSquad, HierarchyLevel::kSquad));
}

TEST(HybridStrategyTest, AdaptivePromotion) {
  auto s = HybridStrategy::with_adaptive_promotion(HierarchyLevel::kSquad, NodeRole::kMember);
  EXPECT_TRUE(s.can_transition(HierarchyLevel::kSquad, HierarchyLevel::kPlatoon));
  EXPECT_FALSE(s.can_transition(HierarchyLevel::kSquad, HierarchyLevel::kCompany));
  EXPECT_FALSE(s.can_transition(HierarchyLevel::kSquad, HierarchyLevel::kPlatform));
  std::vector<GeographicBeacon> two = {beacon_of("a", kMid), beacon_of("b", kWeak)};
  EXPECT_TRUE(s.should_promote(two));
  EXPECT_FALSE(s.should_promote({beacon_of("a", kMid)}));
  two.push_back(beacon_of("p", kStrong, HierarchyLevel::kPlatoon));
  EXPECT_FALSE(s.should_promote(two));
  EXPECT_FALSE(s.should_demote(two));
  HybridStrategy both(HierarchyLevel::kSquad, NodeRole::kMember);
  EXPECT_TRUE(both.should_demote({beacon_of("p", kStrong, HierarchyLevel::kPlatoon),
                                  beacon_of("q", kStrong, HierarchyLevel::kPlatoon)}));
  EXPECT_TRUE(both.can_transition(HierarchyLevel::kSquad, HierarchyLevel::kPlatform));
}

TEST(NodeRoleText, RoundTrip) {
  EXPECT_EQ(parse_role("Leader").value(), NodeRole::kLeader);
  EXPECT_STREQ(to_string(NodeRole::kStandalone), "Standalone");
  EXPECT_EQ(parse_role("King").error().code, "INVALID_ROLE");
}
