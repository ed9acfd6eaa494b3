#include <cmath>

#include <gtest/gtest.h>

#include "peat/topology/builder.hpp"
#include "peat/topology/metrics.hpp"
#include "peat/topology/selection.hpp"

using namespace peat::topology;
using namespace std::chrono_literals;
using peat::Instant;
using peat::beacon::GeoPosition;
using peat::beacon::NodeMobility;
using peat::beacon::NodeResources;

namespace {
const GeoPosition kHere{37.7749, -122.4194, std::nullopt};
const Instant t0 = Instant{} + 1h;

GeographicBeacon parent(const std::string& id, double dlat = 0.001,
                        HierarchyLevel level = HierarchyLevel::kPlatoon,
                        NodeMobility mobility = NodeMobility::kStatic) {
  auto b = GeographicBeacon::make(id, {kHere.lat + dlat, kHere.lon, std::nullopt}, level, 0);
  b.can_parent = true;
  b.mobility = mobility;
  b.resources = NodeResources{4, 4096, 100, 10, 10, std::nullopt};
  return b;
}
}  // namespace

TEST(PeerSelectorTest, ValidityRules) {
  PeerSelector s(SelectionConfig::defaults(), kHere, HierarchyLevel::kSquad);
  EXPECT_TRUE(s.is_valid(parent("p")));
  EXPECT_FALSE(s.is_valid(parent("same", 0.001, HierarchyLevel::kSquad)));
  auto cannot = parent("c");
  cannot.can_parent = false;
  EXPECT_FALSE(s.is_valid(cannot));
  EXPECT_FALSE(s.is_valid(parent("far", 1.0)));  // ~111 km > 10 km
  PeerSelector unlimited(SelectionConfig::distributed(), kHere, HierarchyLevel::kSquad);
  EXPECT_TRUE(unlimited.is_valid(parent("far", 1.0)));
}

TEST(PeerSelectorTest, ScoreFormula) {
  PeerSelector s(SelectionConfig::defaults(), kHere, HierarchyLevel::kSquad);
  auto b = parent("p", 0.0);
  // distance 0: mobility 1, resources (0.9+0.9+1)/3, battery 1 (AC), proximity 1.
  EXPECT_NEAR(s.score(b), 0.3 + 0.3 * (2.8 / 3) + 0.2 + 0.2, 1e-12);
  b.resources.reset();
  b.mobility.reset();
  EXPECT_NEAR(s.score(b), 0.15 + 0.15 + 0.1 + 0.2, 1e-12);
  auto far = parent("f", 0.03);  // ~3.3 km, scale 10000/3
  const double d = kHere.distance_to(far.position);
  EXPECT_NEAR(s.score(far) - s.score(parent("n", 0.0)), 0.2 * (std::exp(-d / (10000.0 / 3)) - 1),
              1e-12);
}

TEST(PeerSelectorTest, BestAndStableTies) {
  PeerSelector s(SelectionConfig::tactical(), kHere, HierarchyLevel::kSquad);
  auto a = parent("a"), b = parent("b");
  auto mobile = parent("m", 0.001, HierarchyLevel::kPlatoon, NodeMobility::kMobile);
  EXPECT_EQ(s.select_best({mobile, a, b})->beacon.node_id, "a");
  EXPECT_EQ(s.select_best({mobile, b, a})->beacon.node_id, "b");
  EXPECT_FALSE(s.select_best({parent("x", 0.001, HierarchyLevel::kPlatform)}).has_value());
  EXPECT_EQ(s.rank({mobile, a}).back().beacon.node_id, "m");
}

TEST(TopologyConfigTest, DefaultsAndBackoff) {
  TopologyConfig c;
  EXPECT_EQ(c.peer_timeout, 180s);
  EXPECT_EQ(c.max_telemetry_buffer_size, 100u);
  EXPECT_EQ(c.max_lateral_connections, 10u);
  EXPECT_EQ(c.backoff(0), 1s);
  EXPECT_EQ(c.backoff(2), 4s);
  EXPECT_EQ(c.backoff(10), 60s);
  c.initial_backoff = 2s;
  EXPECT_EQ(c.backoff(4), 32s);
}

TEST(TopologyBuilderTest, SelectsParentTracksChildrenAndLaterals) {
  TopologyBuilder b({}, "me", kHere, HierarchyLevel::kSquad);
  auto child = parent("child", 0.001, HierarchyLevel::kPlatform);
  auto lateral = parent("lat", 0.001, HierarchyLevel::kSquad);
  auto self = parent("me", 0.0, HierarchyLevel::kSquad);
  auto events = b.evaluate({parent("p1"), child, lateral, self}, t0);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_STREQ(event_name(events[0]), "PeerSelected");
  EXPECT_STREQ(event_name(events[1]), "PeerAdded");
  EXPECT_STREQ(event_name(events[2]), "LateralPeerDiscovered");
  EXPECT_EQ(b.selected_peer()->node_id, "p1");
  EXPECT_EQ(b.state().lateral_peers.size(), 1u);  // own beacon ignored
  // Still visible: nothing new.
  EXPECT_TRUE(b.evaluate({parent("p1"), child, lateral}, t0 + 30s).empty());
  // Gone but within peer_timeout: kept.
  EXPECT_TRUE(b.evaluate({}, t0 + 200s).empty());
  // Past peer_timeout since last seen: lost everywhere, a new parent is picked.
  events = b.evaluate({parent("p2")}, t0 + 211s);
  std::vector<std::string> names;
  for (const auto& e : events) names.push_back(event_name(e));
  EXPECT_EQ(names, (std::vector<std::string>{"PeerLost", "PeerSelected", "PeerRemoved",
                                             "LateralPeerLost"}));
  EXPECT_EQ(b.selected_peer()->node_id, "p2");
}

TEST(TopologyBuilderTest, ReevaluateHonoursCooldownAndMargin) {
  TopologyBuilder b({}, "me", kHere, HierarchyLevel::kSquad);
  auto weak = parent("weak", 0.001, HierarchyLevel::kPlatoon, NodeMobility::kMobile);
  auto strong = parent("strong", 0.001);
  (void)b.evaluate({weak}, t0);
  EXPECT_TRUE(b.reevaluate_peer({weak, strong}, t0 + 10s).empty());  // cooldown 60 s
  auto events = b.reevaluate_peer({weak, strong}, t0 + 61s);
  ASSERT_EQ(events.size(), 1u);
  auto* changed = std::get_if<event::PeerChanged>(&events[0]);
  ASSERT_NE(changed, nullptr);
  EXPECT_EQ(changed->old_peer_id, "weak");
  EXPECT_EQ(changed->new_peer_id, "strong");
  // A nearly equal candidate (within 10 %) does not cause a switch.
  auto twin = parent("twin", 0.0011);
  EXPECT_TRUE(b.reevaluate_peer({strong, twin}, t0 + 200s).empty());
}

TEST(TopologyBuilderTest, StrategyDrivesRoleAndPartitionDetector) {
  TopologyBuilder b({}, "me", kHere, HierarchyLevel::kSquad);
  auto strong = NodeProfile::static_node(NodeResources{8, 8192, 100, 5, 5, std::nullopt});
  b.set_strategy(std::make_shared<DynamicStrategy>(HierarchyLevel::kSquad), strong);
  PartitionDetector detector(HierarchyLevel::kSquad);
  b.set_partition_detector(&detector);
  auto events =
      b.evaluate({parent("peer", 0.001, HierarchyLevel::kSquad, NodeMobility::kMobile)}, t0);
  ASSERT_FALSE(events.empty());
  EXPECT_STREQ(event_name(events[0]), "RoleChanged");
  EXPECT_EQ(b.state().role, NodeRole::kLeader);
  EXPECT_EQ(detector.detection_attempts(), 1u);  // no higher-level beacon visible
  (void)b.evaluate({parent("p")}, t0 + 1s);
  EXPECT_EQ(detector.detection_attempts(), 0u);
}

TEST(TopologyBuilderTest, PeriodicOnLoop) {
  struct Loop final : peat::EventLoop {
    Instant now() const override { return t; }
    peat::UnixMillis unix_millis() const override { return 0; }
    void post(std::function<void()> f) override { f(); }
    peat::TimerId call_after(peat::Duration d, std::function<void()> f) override {
      next = std::move(f);
      delay = d;
      return 1;
    }
    void cancel(peat::TimerId) override { next = nullptr; }
    Instant t = t0;
    std::function<void()> next;
    peat::Duration delay{};
  } loop;
  TopologyBuilder b({}, "me", kHere, HierarchyLevel::kSquad);
  std::vector<std::string> seen;
  b.start(
      loop, [] { return std::vector<GeographicBeacon>{parent("p")}; },
      [&](const TopologyEvent& e) { seen.push_back(event_name(e)); });
  EXPECT_EQ(loop.delay, peat::Duration::zero());
  loop.next();
  EXPECT_EQ(seen, std::vector<std::string>{"PeerSelected"});
  EXPECT_EQ(loop.delay, 30s);
  b.stop();
  EXPECT_FALSE(loop.next);
}

TEST(MetricsTest, InMemorySnapshot) {
  InMemoryMetrics m;
  m.set_parent_id("p");
  m.set_linked_peer_count(3);
  m.set_lateral_peer_count(2);
  m.set_hierarchy_level(HierarchyLevel::kSquad);
  m.set_node_role(NodeRole::kLeader);
  m.set_parent_connected(true);
  for (int i = 0; i < 3; ++i) m.increment_retry_attempts();
  m.record_connection_success(t0);
  m.increment_parent_switches();
  m.record_failover_duration(7s);
  m.record_failover_retry_attempts(3);
  m.record_failover_buffer_usage(5, 100);
  m.increment_telemetry_sent();
  m.increment_telemetry_buffered();
  m.set_buffer_utilization(2, 100);
  m.record_evaluation_duration(50ms);
  m.increment_event_counter("PeerSelected");
  m.increment_event_counter("PeerSelected");
  m.increment_event_counter("LevelChanged");
  auto s = m.snapshot();
  EXPECT_EQ(s.parent_id, "p");
  EXPECT_EQ(s.linked_peer_count, 3u);
  EXPECT_EQ(s.hierarchy_level, HierarchyLevel::kSquad);
  EXPECT_EQ(s.retry_attempts_total, 3u);
  EXPECT_EQ(s.last_connection_success, t0);
  EXPECT_EQ(s.last_failover_duration, peat::Duration(7s));
  EXPECT_EQ(s.last_failover_buffer_usage, std::make_pair(std::size_t{5}, std::size_t{100}));
  EXPECT_EQ(s.buffer_current, 2u);
  EXPECT_EQ(s.peer_selected_count, 2u);
  EXPECT_EQ(s.level_changed_count, 1u);
  EXPECT_EQ(s.peer_lost_count, 0u);
  NoOpMetrics noop;
  noop.increment_event_counter("PeerSelected");
}
