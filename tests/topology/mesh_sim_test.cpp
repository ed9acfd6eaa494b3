// Multi-node tests of hierarchy formation, partitions and routing on the simulated network.
#include <gtest/gtest.h>

#include "peat/routing/aggregator.hpp"
#include "topology/sim_mesh.hpp"

using namespace std::chrono_literals;
using namespace peat::topology;
using peat::topology::testing::SimMesh;
using peat::topology::testing::SimMeshOptions;

namespace {
SimMeshOptions lossy(std::uint64_t seed) {
  SimMeshOptions o;
  o.seed = seed;
  o.link.delay = 2ms;
  o.link.jitter = 1ms;
  o.link.loss = 0.01;
  o.link.duplicate = 0.02;
  return o;
}

std::size_t top_index(const SimMesh& m) {
  return m.index_of(*m.nodes[0]->membership().top_leader());
}
}  // namespace

TEST(MeshSim, TwentyNodesFormOneLeaderPerGroup) {
  SimMesh m(lossy(11));
  m.start();
  ASSERT_TRUE(m.run_until([&] { return m.converged(); }, 30s));
  // The elected group leader is the best-scoring member of each group (tie: smallest id).
  for (std::size_t g = 0; g < m.opts.groups; ++g) {
    std::size_t best = g;
    for (std::size_t i = g; i < m.nodes.size(); i += m.opts.groups) {
      if (m.nodes[i]->membership().config().score > m.nodes[best]->membership().config().score) {
        best = i;
      }
    }
    EXPECT_TRUE(m.nodes[best]->membership().is_group_leader()) << "group " << g;
  }
  // Stays converged (no flapping) for another minute of virtual time.
  for (int s = 0; s < 60; ++s) {
    m.loop.run_for(1s);
    ASSERT_TRUE(m.converged()) << "after " << s << " s";
  }
  for (const auto& n : m.nodes) EXPECT_FALSE(n->membership().is_partitioned());
  const auto top = top_index(m);
  EXPECT_EQ(m.nodes[top]->membership().level(), peat::beacon::HierarchyLevel::kPlatoon);
}

TEST(MeshSim, RoutedPacketsArriveExactlyOnce) {
  SimMesh m(lossy(12));
  m.start();
  ASSERT_TRUE(m.run_until([&] { return m.converged(); }, 30s));
  const auto top = top_index(m);
  // Every non-top node sends telemetry upward; the top leader consumes each exactly once.
  std::set<std::string> sent;
  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    if (i == top) continue;
    auto p = peat::routing::DataPacket::telemetry(m.nodes[i]->rng(), m.ids[i], {1, 2, 3});
    sent.insert(p.packet_id);
    ASSERT_TRUE(m.nodes[i]->send(p).ok()) << m.ids[i];
  }
  // The top leader commands every other node individually.
  std::map<std::string, std::size_t> commands;
  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    if (i == top) continue;
    auto p = peat::routing::DataPacket::command(m.nodes[top]->rng(), m.ids[top], m.ids[i], {9});
    commands[p.packet_id] = i;
    ASSERT_TRUE(m.nodes[top]->send(p).ok());
  }
  m.loop.run_for(5s);
  for (const auto& id : sent) EXPECT_EQ((m.consumed[{top, id}]), 1) << id;
  for (const auto& [id, dest] : commands) EXPECT_EQ((m.consumed[{dest, id}]), 1) << id;
  // No node consumed any packet twice.
  for (const auto& [key, count] : m.consumed) EXPECT_EQ(count, 1);
}

TEST(MeshSim, LeadersAggregateTelemetryUpward) {
  auto o = lossy(13);
  o.aggregate = true;
  SimMesh m(o);
  m.start();
  ASSERT_TRUE(m.run_until([&] { return m.converged(); }, 30s));
  const auto top = top_index(m);
  std::set<std::string> via_leaders;
  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    const auto& mem = m.nodes[i]->membership();
    if (mem.is_group_leader()) continue;
    auto p = peat::routing::DataPacket::telemetry(m.nodes[i]->rng(), m.ids[i], {7});
    if (*mem.group_leader() != m.ids[top]) via_leaders.insert(p.packet_id);
    ASSERT_TRUE(m.nodes[i]->send(p).ok());
  }
  m.loop.run_for(5s);
  std::multiset<std::string> bundled;
  for (const auto& p : m.received[top]) {
    if (p.data_type != peat::routing::DataType::kAggregatedTelemetry) continue;
    auto s = peat::routing::BundleAggregator::decode_summary(p).value();
    bundled.insert(s.packet_ids.begin(), s.packet_ids.end());
  }
  // 4 members per group, threshold 2: every relayed packet is in exactly one bundle.
  EXPECT_EQ(bundled, std::multiset<std::string>(via_leaders.begin(), via_leaders.end()));
}

TEST(MeshSim, PartitionDetectedAutonomousSidesThenReconverge) {
  SimMesh m(lossy(14));
  m.start();
  ASSERT_TRUE(m.run_until([&] { return m.converged(); }, 30s));
  std::vector<std::size_t> a, b;
  std::vector<std::string> na, nb;
  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    (i < 10 ? a : b).push_back(i);
    (i < 10 ? na : nb).push_back(m.ids[i]);
  }
  const auto split_at = m.loop.now();
  m.net.partition({na, nb});
  auto all_partitioned = [&] {
    for (const auto& n : m.nodes) {
      if (!n->membership().is_partitioned()) return false;
    }
    return true;
  };
  ASSERT_TRUE(m.run_until(all_partitioned, 30s));
  // Heartbeat timeout (3 s) + one tick + detector attempts spaced 4 s and 8 s.
  const auto detection = m.loop.now() - split_at;
  EXPECT_LE(detection, 17s);
  EXPECT_GE(detection, 12s);
  // Both sides operate autonomously: one leader per group and one top leader each.
  ASSERT_TRUE(m.run_until([&] { return m.converged(a) && m.converged(b); }, 10s));
  EXPECT_NE(m.nodes[a[0]]->membership().top_leader(), m.nodes[b[0]]->membership().top_leader());
  for (const auto& n : m.nodes) EXPECT_TRUE(n->membership().is_autonomous());
  // Routing keeps working inside each side.
  for (const auto& side : {a, b}) {
    const auto top = m.index_of(*m.nodes[side[0]]->membership().top_leader());
    const auto src = side[0] == top ? side[1] : side[0];
    auto p = peat::routing::DataPacket::telemetry(m.nodes[src]->rng(), m.ids[src], {1});
    ASSERT_TRUE(m.nodes[src]->send(p).ok());
    m.loop.run_for(2s);
    EXPECT_EQ((m.consumed[{top, p.packet_id}]), 1);
  }
  // Heal: the whole mesh re-converges to one leader per group and one top leader.
  m.net.heal();
  ASSERT_TRUE(m.run_until([&] { return m.converged(); }, 60s));
  m.loop.run_for(2s);
  EXPECT_TRUE(m.converged());
  for (const auto& n : m.nodes) {
    EXPECT_FALSE(n->membership().is_partitioned());
    EXPECT_FALSE(n->membership().is_autonomous());
  }
}

TEST(MeshSim, CrashedLeaderIsReplaced) {
  SimMesh m(lossy(15));
  m.start();
  ASSERT_TRUE(m.run_until([&] { return m.converged(); }, 30s));
  const auto top = top_index(m);
  m.net.crash(m.ids[top]);
  std::vector<std::size_t> rest;
  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    if (i != top) rest.push_back(i);
  }
  ASSERT_TRUE(m.run_until([&] { return m.converged(rest); }, 20s));
  EXPECT_NE(m.nodes[rest[0]]->membership().top_leader(), m.ids[top]);
  // 19 of 20 is still a quorum: nobody considers itself partitioned.
  for (auto i : rest) EXPECT_FALSE(m.nodes[i]->membership().is_partitioned());
}

TEST(MeshSim, CrashedNodesRestartAndRejoin) {
  SimMesh m(lossy(16));
  m.start();
  ASSERT_TRUE(m.run_until([&] { return m.converged(); }, 30s));
  const auto top = top_index(m);
  const std::size_t member = top == 0 ? 1 : 0;
  m.net.crash(m.ids[top]);
  m.net.crash(m.ids[member]);
  m.loop.run_for(1s);  // back before the others' peer timeout runs out
  for (auto i : {top, member}) {
    m.net.restart(m.ids[i]);
    m.make_node(i, 1);
    ASSERT_TRUE(m.nodes[i]->start().ok());
  }
  ASSERT_TRUE(m.run_until([&] { return m.converged(); }, 30s));
  // Both rejoined: everyone sees all 19 others alive again (checked by converged()), and the
  // restarted nodes agree with the rest on the leaders.
  EXPECT_EQ(m.nodes[member]->membership().top_leader(), m.nodes[2]->membership().top_leader());
  for (const auto& n : m.nodes) EXPECT_FALSE(n->membership().is_partitioned());
}

TEST(MeshSim, GarbageOnTheWireIsCountedAndIgnored) {
  SimMesh m(lossy(17));
  m.start();
  ASSERT_TRUE(m.run_until([&] { return m.converged(); }, 30s));
  const auto top_before = m.nodes[0]->membership().top_leader();
  // Node 1 sends junk packets and forged heartbeats to node 0 through its own transport.
  ASSERT_TRUE(m.transports[1]
                  ->send(m.ids[0], peat::transport::Channel::kControl, peat::as_bytes("{junk"))
                  .ok());
  auto forged = encode_heartbeat({m.ids[5], "squad-1", 99.0, 1, 1, NodeRole::kLeader, true, false});
  ASSERT_TRUE(m.transports[1]->send_datagram(m.ids[0], forged).ok());
  m.loop.run_for(1s);
  EXPECT_EQ(m.nodes[0]->stats().packets_invalid, 1u);
  EXPECT_GE(m.nodes[0]->stats().heartbeats_rejected, 1u);
  // The forged "score 99" leader claim changed nothing.
  m.loop.run_for(3s);
  EXPECT_TRUE(m.converged());
  EXPECT_EQ(m.nodes[0]->membership().top_leader(), top_before);
}

TEST(MeshSim, SameSeedSameRun) {
  auto run = [](std::uint64_t seed) {
    SimMesh m(lossy(seed));
    m.start();
    m.loop.run_for(20s);
    return m.loop.trace_hash();
  };
  EXPECT_EQ(run(21), run(21));
}
