#include "peat/routing/router.hpp"

#include <gtest/gtest.h>

#include "peat/routing/dedup.hpp"
#include "peat/routing/mesh_router.hpp"

using namespace peat::routing;
using peat::Instant;
using peat::topology::NodeRole;
using peat::topology::TopologyState;

namespace {
const Instant t0 = Instant{} + std::chrono::hours(1);

TopologyState state_with(NodeRole role, bool parent, std::vector<std::string> children,
                         std::vector<std::string> laterals) {
  TopologyState s;
  s.role = role;
  if (parent) {
    s.selected_peer = peat::topology::SelectedPeer{"parent", {}, t0, t0};
  }
  for (auto& c : children) s.linked_peers[c] = t0;
  for (auto& l : laterals) s.lateral_peers[l] = t0;
  return s;
}

DataPacket packet(DataType type, DataDirection dir, std::optional<std::string> dest,
                  std::string id = "p1", std::string src = "src") {
  return DataPacket{id, src, dest, type, dir, 0, 10, {}};
}
}  // namespace

TEST(DedupTest, DuplicateWithinTtlExpiredAfter) {
  DeduplicationCache c({true, std::chrono::seconds(10), 100});
  EXPECT_FALSE(c.check_and_record("a", t0));
  EXPECT_TRUE(c.check_and_record("a", t0 + std::chrono::seconds(9)));
  EXPECT_FALSE(c.check_and_record("a", t0 + std::chrono::seconds(10)));
  EXPECT_EQ(c.size(), 1u);
  EXPECT_TRUE(c.contains("a", t0 + std::chrono::seconds(15)));
}

TEST(DedupTest, BoundedBySizeEvictsExpiredThenOldest) {
  DeduplicationCache c({true, std::chrono::seconds(10), 3});
  c.check_and_record("a", t0);
  c.check_and_record("b", t0 + std::chrono::seconds(1));
  c.check_and_record("c", t0 + std::chrono::seconds(2));
  c.check_and_record("d", t0 + std::chrono::seconds(3));  // evicts oldest "a"
  EXPECT_EQ(c.size(), 3u);
  EXPECT_FALSE(c.contains("a", t0 + std::chrono::seconds(3)));
  EXPECT_TRUE(c.contains("b", t0 + std::chrono::seconds(3)));
  // At t0+12 "b" (t0+1) and "c" (t0+2) are expired: both purged for "e".
  c.check_and_record("e", t0 + std::chrono::seconds(12));
  EXPECT_EQ(c.size(), 2u);
  c.clear();
  EXPECT_EQ(c.size(), 0u);
}

TEST(RouterTest, UpwardConsumeAndForwardToParent) {
  SelectiveRouter r;
  auto s = state_with(NodeRole::kLeader, true, {"c1"}, {});
  auto d = r.route(packet(DataType::kTelemetry, DataDirection::kUpward, {}), s, "me", t0);
  ASSERT_TRUE(std::holds_alternative<decision::ConsumeAndForward>(d));
  EXPECT_EQ(std::get<decision::ConsumeAndForward>(d).next_hop, "parent");
  EXPECT_TRUE(SelectiveRouter::should_aggregate(
      packet(DataType::kTelemetry, DataDirection::kUpward, {}), d, s));
  auto top = state_with(NodeRole::kLeader, false, {"c1"}, {});
  EXPECT_TRUE(std::holds_alternative<decision::Consume>(
      r.route(packet(DataType::kTelemetry, DataDirection::kUpward, {}), top, "me", t0)));
}

TEST(RouterTest, DropsOwnMaxHopsAndDuplicates) {
  SelectiveRouter r({true, std::chrono::seconds(300), 100});
  auto s = state_with(NodeRole::kMember, true, {}, {});
  auto p = packet(DataType::kTelemetry, DataDirection::kUpward, {});
  EXPECT_FALSE(std::holds_alternative<decision::Drop>(r.route(p, s, "me", t0)));
  EXPECT_TRUE(std::holds_alternative<decision::Drop>(r.route(p, s, "me", t0)));
  auto own = packet(DataType::kTelemetry, DataDirection::kUpward, {}, "p2", "me");
  EXPECT_TRUE(std::holds_alternative<decision::Drop>(r.route(own, s, "me", t0)));
  auto old = packet(DataType::kTelemetry, DataDirection::kUpward, {}, "p3");
  old.hop_count = 10;
  EXPECT_TRUE(std::holds_alternative<decision::Drop>(r.route(old, s, "me", t0)));
  // The default router has no de-duplication.
  SelectiveRouter plain;
  EXPECT_FALSE(std::holds_alternative<decision::Drop>(plain.route(p, s, "me", t0)));
  EXPECT_FALSE(std::holds_alternative<decision::Drop>(plain.route(p, s, "me", t0)));
}

TEST(RouterTest, DownwardDecisions) {
  SelectiveRouter r;
  auto leader = state_with(NodeRole::kLeader, true, {"c1", "c2"}, {});
  auto d = r.route(packet(DataType::kCommand, DataDirection::kDownward, "c2"), leader, "me", t0);
  ASSERT_TRUE(std::holds_alternative<decision::ConsumeAndForward>(d));
  EXPECT_EQ(std::get<decision::ConsumeAndForward>(d).next_hop, "c2");
  d = r.route(packet(DataType::kCommand, DataDirection::kDownward, "far", "p2"), leader, "me", t0);
  ASSERT_TRUE(std::holds_alternative<decision::ConsumeAndForwardMulticast>(d));
  EXPECT_EQ(next_hops(d), (std::vector<std::string>{"c1", "c2"}));
  auto member = state_with(NodeRole::kMember, true, {}, {});
  EXPECT_TRUE(std::holds_alternative<decision::Consume>(
      r.route(packet(DataType::kCommand, DataDirection::kDownward, "me"), member, "me", t0)));
  EXPECT_TRUE(std::holds_alternative<decision::Drop>(
      r.route(packet(DataType::kCommand, DataDirection::kDownward, "x"), member, "me", t0)));
  auto relay = state_with(NodeRole::kMember, true, {"c1"}, {});
  d = r.route(packet(DataType::kCommand, DataDirection::kDownward, "c1"), relay, "me", t0);
  ASSERT_TRUE(std::holds_alternative<decision::Forward>(d));
  // Quirk kept: a packet addressed to me is still multicast to all my children.
  d = r.route(packet(DataType::kCommand, DataDirection::kDownward, "me"), leader, "me", t0);
  EXPECT_TRUE(std::holds_alternative<decision::ConsumeAndForwardMulticast>(d));
}

TEST(RouterTest, LateralDecisions) {
  SelectiveRouter r;
  auto s = state_with(NodeRole::kMember, false, {}, {"l1", "l2"});
  auto d = r.route(packet(DataType::kCoordination, DataDirection::kLateral, "l1"), s, "me", t0);
  ASSERT_TRUE(std::holds_alternative<decision::Forward>(d));
  EXPECT_TRUE(std::holds_alternative<decision::Consume>(
      r.route(packet(DataType::kCoordination, DataDirection::kLateral, "me"), s, "me", t0)));
  EXPECT_TRUE(std::holds_alternative<decision::Drop>(
      r.route(packet(DataType::kCoordination, DataDirection::kLateral, {}), s, "me", t0)));
  auto leader = state_with(NodeRole::kLeader, false, {}, {"l1", "l2"});
  d = r.route(packet(DataType::kCoordination, DataDirection::kLateral, {}), leader, "me", t0);
  EXPECT_TRUE(std::holds_alternative<decision::ConsumeAndForwardMulticast>(d));
  EXPECT_EQ(r.next_hop(packet(DataType::kCoordination, DataDirection::kLateral, {}), leader), "l1");
  EXPECT_STREQ(to_string(d), "ConsumeAndForwardMulticast");
}

TEST(MeshRouterTest, RouteResultAndAggregationPerGroup) {
  auto rng = std::make_shared<peat::SeededRng>(3);
  MeshRouter m({"leader", {}, true, 3}, std::make_unique<BundleAggregator>(rng));
  auto s = state_with(NodeRole::kLeader, true, {"a", "b"}, {});
  auto p = packet(DataType::kTelemetry, DataDirection::kUpward, {}, "t1", "a");
  auto r = m.route(p, s, t0);
  EXPECT_TRUE(r.should_aggregate);
  EXPECT_EQ(r.forward_to, std::vector<std::string>{"parent"});
  EXPECT_TRUE(std::holds_alternative<decision::Drop>(m.route(p, s, t0).decision));
  EXPECT_EQ(m.dedup_size(), 1u);

  for (int i = 0; i < 2; ++i) {
    auto q = packet(DataType::kTelemetry, DataDirection::kUpward, {}, "g" + std::to_string(i),
                    "n" + std::to_string(i));
    q.payload = {static_cast<std::uint8_t>(i)};
    EXPECT_FALSE(m.add_for_aggregation(q, "squad-1").value().has_value());
  }
  EXPECT_FALSE(
      m.add_for_aggregation(packet(DataType::kStatus, DataDirection::kUpward, {}, "o"), "squad-2")
          .value()
          .has_value());
  EXPECT_EQ(m.pending_aggregation_count(), 3u);
  auto out = m.add_for_aggregation(packet(DataType::kTelemetry, DataDirection::kUpward, {}, "g2"),
                                   "squad-1");
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(out.value().has_value());
  const auto& agg = *out.value();
  EXPECT_EQ(agg.data_type, DataType::kAggregatedTelemetry);
  EXPECT_EQ(agg.source_node_id, "leader");
  auto summary = BundleAggregator::decode_summary(agg).value();
  EXPECT_EQ(summary.group_id, "squad-1");
  EXPECT_EQ(summary.packet_ids, (std::vector<std::string>{"g0", "g1", "g2"}));
  EXPECT_EQ(summary.payloads[1], peat::Bytes{1});
  EXPECT_EQ(m.pending_aggregation_count("squad-2"), 1u);
  EXPECT_TRUE(m.flush_aggregation("squad-2").value().has_value());
  EXPECT_FALSE(m.flush_aggregation("squad-2").value().has_value());
  EXPECT_EQ(m.aggregator().extract_summary_bytes(agg).value(), agg.payload);
  EXPECT_EQ(m.aggregator().extract_summary_bytes(p).error().code, "INVALID_PACKET_TYPE");
}

TEST(MeshRouterTest, NoOpAggregatorKeepsPacketsAndReportsError) {
  MeshRouter m({"leader", {}, true, 2}, nullptr);
  auto p = packet(DataType::kTelemetry, DataDirection::kUpward, {});
  EXPECT_TRUE(m.add_for_aggregation(p, "g").ok());
  auto r = m.add_for_aggregation(p, "g");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "AGGREGATION_FAILED");
  EXPECT_EQ(m.pending_aggregation_count("g"), 2u);
  MeshRouter off({"x", {}, false, 1}, nullptr);
  EXPECT_FALSE(off.add_for_aggregation(p, "g").value().has_value());
  EXPECT_EQ(off.pending_aggregation_count(), 0u);
  BundleAggregator b(std::make_shared<peat::SeededRng>(1));
  EXPECT_EQ(b.aggregate_telemetry("g", "l", {}).error().code, "EMPTY_INPUT");
  auto cmd = packet(DataType::kCommand, DataDirection::kDownward, "x");
  EXPECT_EQ(b.aggregate_telemetry("g", "l", {cmd}).error().code, "INVALID_PACKET_TYPE");
}
