#include "peat/topology/membership.hpp"

#include <gtest/gtest.h>

using namespace peat::topology;
using namespace std::chrono_literals;
using peat::Instant;

namespace {
const Instant t0 = Instant{} + 1h;

// A lossless in-memory exchange: every node hears every node it is connected to.
struct Cluster {
  std::vector<std::unique_ptr<MeshMembership>> nodes;
  std::set<std::pair<std::size_t, std::size_t>> cut;

  Cluster(std::vector<std::pair<std::string, double>> spec, std::vector<std::string> groups) {
    std::vector<std::string> ids;
    for (auto& [id, s] : spec) ids.push_back(id);
    for (std::size_t i = 0; i < spec.size(); ++i) {
      MembershipConfig c;
      c.node_id = spec[i].first;
      c.score = spec[i].second;
      c.group = groups[i];
      c.roster = ids;
      nodes.push_back(std::make_unique<MeshMembership>(c));
    }
  }
  void round(Instant now) {
    std::vector<peat::Bytes> hbs;
    for (auto& n : nodes) hbs.push_back(n->make_heartbeat());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      for (std::size_t j = 0; j < nodes.size(); ++j) {
        if (i == j || cut.count({i, j})) continue;
        EXPECT_TRUE(nodes[j]->on_heartbeat(nodes[i]->config().node_id, hbs[i], now).ok());
      }
    }
    for (auto& n : nodes) (void)n->evaluate(now);
  }
  void split(std::size_t boundary) {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      for (std::size_t j = 0; j < nodes.size(); ++j) {
        if ((i < boundary) != (j < boundary)) cut.insert({i, j});
      }
    }
  }
  std::size_t leaders(std::size_t from, std::size_t to) const {
    std::size_t n = 0;
    for (std::size_t i = from; i < to; ++i) n += nodes[i]->is_group_leader() ? 1 : 0;
    return n;
  }
};
}  // namespace

TEST(HeartbeatCodec, RoundTripAndRejects) {
  Heartbeat hb{"a", "g1", 1.5, 42, 7, NodeRole::kLeader, true, false};
  auto back = decode_heartbeat(encode_heartbeat(hb)).value();
  EXPECT_EQ(back.node_id, "a");
  EXPECT_EQ(back.role, NodeRole::kLeader);
  EXPECT_TRUE(back.top);
  EXPECT_EQ(back.seq, 7u);
  EXPECT_EQ(back.incarnation, 42u);
  for (const char* bad : {"", "{}", R"({"type":"beacon","node_id":"a","group":"g","score":1,
       "incarnation":1,"seq":1,"role":"Leader","top":false,"partitioned":false})",
                          R"({"type":"heartbeat","node_id":"a","group":"g","score":1,
       "incarnation":1,"seq":1,"role":"Boss","top":false,"partitioned":false})"}) {
    EXPECT_EQ(decode_heartbeat(peat::as_bytes(bad)).error().code, "INVALID_HEARTBEAT") << bad;
  }
}

TEST(MeshMembershipTest, RejectsUnknownSpoofedAndStale) {
  MembershipConfig c;
  c.node_id = "a";
  c.group = "g";
  c.roster = {"b"};
  MeshMembership m(c);
  auto hb = encode_heartbeat({"b", "g", 1, 0, 1, NodeRole::kMember, false, false});
  EXPECT_EQ(m.on_heartbeat("c", hb, t0).error().code, "SENDER_MISMATCH");
  EXPECT_EQ(m.on_heartbeat(
                 "z", encode_heartbeat({"z", "g", 1, 0, 1, NodeRole::kMember, false, false}), t0)
                .error()
                .code,
            "UNKNOWN_PEER");
  EXPECT_TRUE(m.on_heartbeat("b", hb, t0).ok());
  (void)m.evaluate(t0);
  EXPECT_EQ(m.on_heartbeat("b", hb, t0).error().code, "STALE_HEARTBEAT");
  // A restarted "b" (new incarnation) is accepted at once.
  EXPECT_TRUE(m.on_heartbeat(
                   "b", encode_heartbeat({"b", "g", 1, 9, 1, NodeRole::kMember, false, false}), t0)
                  .ok());
  EXPECT_EQ(m.alive_peers(), std::vector<std::string>{"b"});
}

TEST(MeshMembershipTest, AloneIsStandaloneAndTop) {
  MembershipConfig c;
  c.node_id = "a";
  c.group = "g";
  MeshMembership m(c);
  (void)m.evaluate(t0);
  EXPECT_EQ(m.role(), NodeRole::kStandalone);
  EXPECT_EQ(m.group_leader(), "a");
}

TEST(MeshMembershipTest, ElectsOneLeaderPerGroupAndOneTop) {
  Cluster c({{"a", 1.0}, {"b", 2.0}, {"c", 1.5}, {"d", 0.5}, {"e", 3.0}, {"f", 1.0}},
            {"g1", "g1", "g1", "g2", "g2", "g2"});
  c.round(t0);
  c.round(t0 + 1s);
  EXPECT_EQ(c.leaders(0, 3), 1u);
  EXPECT_EQ(c.leaders(3, 6), 1u);
  EXPECT_TRUE(c.nodes[1]->is_group_leader());
  EXPECT_TRUE(c.nodes[4]->is_top_leader());
  for (auto& n : c.nodes) EXPECT_EQ(n->top_leader(), "e");
  EXPECT_EQ(c.nodes[0]->level(), HierarchyLevel::kPlatform);
  EXPECT_EQ(c.nodes[1]->level(), HierarchyLevel::kSquad);
  EXPECT_EQ(c.nodes[4]->level(), HierarchyLevel::kPlatoon);
  // Router view: member -> group leader -> top leader.
  auto member = c.nodes[0]->topology_state();
  EXPECT_EQ(member.selected_peer->node_id, "b");
  EXPECT_EQ(member.lateral_peers.size(), 2u);
  auto leader = c.nodes[1]->topology_state();
  EXPECT_EQ(leader.selected_peer->node_id, "e");
  EXPECT_EQ(leader.linked_peers.size(), 2u);
  auto top = c.nodes[4]->topology_state();
  EXPECT_FALSE(top.selected_peer.has_value());
  EXPECT_EQ(top.linked_peers.size(), 3u);  // d, f and b
}

TEST(MeshMembershipTest, TiesBrokenBySmallestId) {
  Cluster c({{"n2", 1.0}, {"n1", 1.0}, {"n3", 1.0}}, {"g", "g", "g"});
  c.round(t0);
  EXPECT_TRUE(c.nodes[1]->is_group_leader());
  EXPECT_EQ(c.leaders(0, 3), 1u);
}

TEST(MeshMembershipTest, IncumbentKeptWithinHysteresis) {
  // "c" is 5 % better than the leader "a" but joins late: a keeps the role.
  Cluster c({{"a", 1.0}, {"b", 0.5}, {"c", 1.05}, {"d", 1.3}}, {"g", "g", "g", "g"});
  c.cut = {{2, 0}, {2, 1}, {0, 2}, {1, 2}, {3, 0}, {3, 1}, {0, 3}, {1, 3}, {2, 3}, {3, 2}};
  c.round(t0);
  ASSERT_TRUE(c.nodes[0]->is_group_leader());
  c.cut = {{3, 0}, {3, 1}, {3, 2}, {0, 3}, {1, 3}, {2, 3}};
  c.round(t0 + 1s);
  c.round(t0 + 2s);
  EXPECT_TRUE(c.nodes[0]->is_group_leader());
  EXPECT_EQ(c.leaders(0, 3), 1u);
  // "d" is 30 % better: it takes over once everyone hears it.
  c.cut.clear();
  c.round(t0 + 3s);
  c.round(t0 + 4s);
  EXPECT_TRUE(c.nodes[3]->is_group_leader());
  EXPECT_EQ(c.leaders(0, 4), 1u);
}

TEST(MeshMembershipTest, PartitionDetectedBothSidesElectAndHeal) {
  std::vector<std::pair<std::string, double>> spec;
  std::vector<std::string> groups;
  for (int i = 0; i < 8; ++i) {
    spec.emplace_back("n" + std::to_string(i), 1.0 + i * 0.3);
    groups.push_back(i % 2 ? "odd" : "even");
  }
  Cluster c(spec, groups);
  Instant now = t0;
  for (int i = 0; i < 3; ++i, now += 1s) c.round(now);
  EXPECT_EQ(c.leaders(0, 8), 2u);
  EXPECT_TRUE(c.nodes[7]->is_top_leader());
  c.split(4);  // 4 | 4: neither side has a majority
  bool detected = false;
  Instant split_at = now;
  for (int i = 0; i < 30; ++i, now += 1s) {
    c.round(now);
    if (!detected && c.nodes[0]->is_partitioned() && c.nodes[7]->is_partitioned()) {
      detected = true;
      // peer_timeout 3 s, then attempts spaced 4 s and 8 s: about 15-16 s.
      EXPECT_LE(now - split_at, 17s);
    }
  }
  ASSERT_TRUE(detected);
  EXPECT_TRUE(c.nodes[0]->is_autonomous());
  // Each side has one leader per group and its own top leader.
  EXPECT_EQ(c.leaders(0, 4), 2u);
  EXPECT_EQ(c.leaders(4, 8), 2u);
  EXPECT_EQ(c.nodes[0]->top_leader(), "n3");
  EXPECT_EQ(c.nodes[4]->top_leader(), "n7");
  c.cut.clear();
  for (int i = 0; i < 3; ++i, now += 1s) c.round(now);
  EXPECT_EQ(c.leaders(0, 8), 2u);
  for (auto& n : c.nodes) {
    EXPECT_FALSE(n->is_partitioned());
    EXPECT_EQ(n->top_leader(), "n7");
  }
}
