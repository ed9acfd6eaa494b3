// Topology-aware propagation: PropagationDirection per collection on a 3-level tree
// (root; mids m1, m2; leaves l1, l2 under m1 and l3, l4 under m2; links only along the tree).
#include <gtest/gtest.h>

#include "sync/engine/mesh_harness.hpp"

namespace peat::sync {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::Mesh;

const std::vector<std::string> kAll = {"root", "m1", "m2", "l1", "l2", "l3", "l4"};

TEST(SyncTopologyView, RolesAndFlows) {
  EXPECT_EQ(role_of(std::nullopt, "x"), PeerRole::kFlat);
  SyncTopology t{"p", {"c1", "c2"}};
  EXPECT_EQ(role_of(t, "p"), PeerRole::kParent);
  EXPECT_EQ(role_of(t, "c2"), PeerRole::kChild);
  EXPECT_EQ(role_of(t, "z"), PeerRole::kLateral);
  using D = PropagationDirection;
  using F = DirectionFlow;
  for (auto d : {D::kBidirectional, D::kUpOnly, D::kDownOnly, D::kSystemWide}) {
    EXPECT_EQ(flow_for(d, PeerRole::kFlat), (F{true, true}));
  }
  for (auto r : {PeerRole::kParent, PeerRole::kChild, PeerRole::kLateral}) {
    EXPECT_EQ(flow_for(D::kBidirectional, r), (F{true, true}));
    EXPECT_EQ(flow_for(D::kSystemWide, r), (F{true, true}));
  }
  EXPECT_EQ(flow_for(D::kUpOnly, PeerRole::kParent), (F{true, false}));
  EXPECT_EQ(flow_for(D::kUpOnly, PeerRole::kChild), (F{false, true}));
  EXPECT_EQ(flow_for(D::kUpOnly, PeerRole::kLateral), (F{false, false}));
  EXPECT_EQ(flow_for(D::kDownOnly, PeerRole::kParent), (F{false, true}));
  EXPECT_EQ(flow_for(D::kDownOnly, PeerRole::kChild), (F{true, false}));
  EXPECT_EQ(flow_for(D::kDownOnly, PeerRole::kLateral), (F{false, false}));
}

SyncEngineConfig tree_config() {
  SyncEngineConfig cfg;
  cfg.policies.set_direction("up", PropagationDirection::kUpOnly);
  cfg.policies.set_direction("down", PropagationDirection::kDownOnly);
  return cfg;
}

// "up" / "down" / "notes" keep tombstones (delete-wins), so deletes travel as tombstones;
// "cells" is UpOnly + LatestOnly by default.
void set_tree_topology(Mesh& m) {
  m.set_topology("root", {std::nullopt, {"m1", "m2"}});
  m.set_topology("m1", {"root", {"l1", "l2"}});
  m.set_topology("m2", {"root", {"l3", "l4"}});
  for (auto l : {"l1", "l2"}) m.set_topology(l, {"m1", {}});
  for (auto l : {"l3", "l4"}) m.set_topology(l, {"m2", {}});
}

// `with_view` false: the links come up as a flat mesh; call set_tree_topology later.
void build_tree(Mesh& m, bool with_view = true) {
  m.set_store_setup([](store::DocumentStore& s) {
    for (auto c : {"up", "down", "notes"}) {
      s.base().policies().set(c, store::DeletionPolicy::tombstone(std::chrono::hours(1), true));
    }
  });
  for (const auto& n : kAll) m.add(n);
  if (with_view) set_tree_topology(m);
  m.link("root", "m1");
  m.link("root", "m2");
  m.link("m1", "l1");
  m.link("m1", "l2");
  m.link("m2", "l3");
  m.link("m2", "l4");
}

bool has(Mesh& m, const std::string& node, const std::string& key) {
  return m.json_at(node, key) != "<absent>";
}
bool has_tombstone(Mesh& m, const std::string& node, const std::string& key) {
  auto t = m.node(node).store->base().get_tombstone(key);
  return t.ok() && t->has_value();
}
// The nodes holding `key`, in kAll order.
std::vector<std::string> holders(Mesh& m, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& n : kAll) {
    if (has(m, n, key)) out.push_back(n);
  }
  return out;
}
std::vector<std::string> tombstone_holders(Mesh& m, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& n : kAll) {
    if (has_tombstone(m, n, key)) out.push_back(n);
  }
  return out;
}

using Names = std::vector<std::string>;

TEST(SyncTopology, DirectionsFollowTheTree) {
  Mesh m(91, tree_config());
  build_tree(m);
  m.loop().run_for(milliseconds(200));

  // UpOnly at a leaf: its mid and the root, no other node.
  m.write("l1", "up:r1", "l1", 1);
  m.write("l4", "cells:c4", "l4", 1);  // UpOnly, LatestOnly (snapshots)
  // DownOnly at the root: every node; DownOnly at a leaf / UpOnly at the root: nowhere.
  m.write("root", "down:o1", "root", 1);
  m.write("l2", "down:x", "l2", 1);
  m.write("root", "up:y", "root", 1);
  // Bidirectional anywhere: everywhere.
  m.write("l3", "notes:n", "l3", 1);
  ASSERT_TRUE(m.run_until_converged({"notes:n", "down:o1"}, seconds(5)));
  m.loop().run_for(seconds(1));
  EXPECT_EQ(holders(m, "up:r1"), (Names{"root", "m1", "l1"}));
  EXPECT_EQ(holders(m, "cells:c4"), (Names{"root", "m2", "l4"}));
  EXPECT_EQ(holders(m, "down:o1"), kAll);
  EXPECT_EQ(holders(m, "down:x"), (Names{"l2"}));
  EXPECT_EQ(holders(m, "up:y"), (Names{"root"}));
  EXPECT_EQ(holders(m, "notes:n"), kAll);

  // An edit of UpOnly data above the writer does not come back down; the writer's next edit
  // still goes up and merges with it.
  m.write("root", "up:r1", "root", 2);
  m.write("l1", "up:r1", "l1", 3);
  m.loop().run_for(seconds(1));
  EXPECT_EQ(m.json_at("l1", "up:r1").find("root"), std::string::npos) << m.json_at("l1", "up:r1");
  EXPECT_NE(m.json_at("root", "up:r1").find("\"l1\":3"), std::string::npos)
      << m.json_at("root", "up:r1");
  EXPECT_NE(m.json_at("root", "up:r1").find("\"root\":2"), std::string::npos);
  EXPECT_EQ(m.json_at("m1", "up:r1").find("root"), std::string::npos);
  // A leaf's edit of DownOnly data stays at the leaf.
  m.write("l3", "down:o1", "l3", 4);
  m.loop().run_for(seconds(1));
  for (const auto& n : kAll) {
    if (n == "l3") continue;
    EXPECT_EQ(m.json_at(n, "down:o1").find("l3"), std::string::npos) << n;
  }

  // Deletes follow the same paths.
  ASSERT_TRUE(m.node("l1").engine->delete_document("up:r1").ok());
  ASSERT_TRUE(m.node("l4").engine->delete_document("cells:c4").ok());
  ASSERT_TRUE(m.node("root").engine->delete_document("down:o1").ok());
  ASSERT_TRUE(m.node("l3").engine->delete_document("notes:n").ok());
  m.loop().run_for(seconds(2));
  EXPECT_EQ(holders(m, "up:r1"), Names{});
  EXPECT_EQ(tombstone_holders(m, "up:r1"), (Names{"root", "m1", "l1"}));
  EXPECT_EQ(tombstone_holders(m, "cells:c4"), (Names{"root", "m2", "l4"}));
  EXPECT_EQ(holders(m, "cells:c4"), Names{});
  EXPECT_EQ(holders(m, "down:o1"), Names{});
  EXPECT_EQ(tombstone_holders(m, "down:o1"), kAll);
  EXPECT_EQ(tombstone_holders(m, "notes:n"), kAll);
  // A DownOnly delete at a leaf does not go up.
  m.write("root", "down:o2", "root", 1);
  ASSERT_TRUE(m.run_until_converged({"down:o2"}, seconds(5)));
  ASSERT_TRUE(m.node("l2").engine->delete_document("down:o2").ok());
  m.loop().run_for(seconds(1));
  EXPECT_EQ(tombstone_holders(m, "down:o2"), (Names{"l2"}));
  EXPECT_EQ(holders(m, "down:o2"), (Names{"root", "m1", "m2", "l1", "l3", "l4"}));

  // A reconnect (new negentropy round and tombstone exchange) does not widen any path.
  m.crash("m1");
  m.restart("m1");
  m.loop().run_for(seconds(3));
  EXPECT_EQ(holders(m, "down:x"), (Names{"l2"}));
  EXPECT_EQ(tombstone_holders(m, "down:o2"), (Names{"l2"}));
  EXPECT_EQ(holders(m, "down:o2"), (Names{"root", "m1", "m2", "l1", "l3", "l4"}));
  EXPECT_EQ(m.json_at("m1", "up:y"), "<absent>");
  for (const auto& n : kAll) {
    EXPECT_TRUE(m.node(n).errors.empty()) << n << ": " << m.node(n).errors.front().to_string();
  }
}

// Without a view the same collections flood as before (flat mesh).
TEST(SyncTopology, NoViewIsAFlatMesh) {
  Mesh m(92, tree_config());
  for (const auto& n : kAll) m.add(n);
  m.link("root", "m1");
  m.link("m1", "l1");
  m.link("m1", "l2");
  m.write("l1", "up:r1", "l1", 1);
  m.write("l2", "down:x", "l2", 1);
  ASSERT_TRUE(m.loop().run_until([&] { return has(m, "l2", "up:r1") && has(m, "root", "down:x"); },
                                 seconds(5)));
}

// The view usually arrives after the links are up (topology formation): from then on the
// directions apply, to new writes and to what the re-run exchange offers; nothing that already
// flooded is taken back.
TEST(SyncTopology, ViewSetAfterConnectAppliesFromThenOn) {
  Mesh m(94, tree_config());
  build_tree(m, false);
  m.write("l1", "up:early", "v", 1);
  m.write("l2", "notes:n", "v", 1);
  ASSERT_TRUE(m.run_until_converged({"up:early", "notes:n"}, seconds(5)));
  EXPECT_EQ(holders(m, "up:early"), kAll);  // flat: flooded
  set_tree_topology(m);
  m.write("l1", "up:late", "v", 1);
  m.write("l3", "down:late", "v", 1);
  // An UpOnly delete goes up from wherever it is made, never down to the other copies.
  ASSERT_TRUE(m.node("l3").engine->delete_document("up:early").ok());
  m.loop().run_for(seconds(2));
  EXPECT_EQ(holders(m, "up:late"), (Names{"root", "m1", "l1"}));
  EXPECT_EQ(holders(m, "down:late"), (Names{"l3"}));
  EXPECT_EQ(tombstone_holders(m, "up:early"), (Names{"root", "m2", "l3"}));
  EXPECT_EQ(holders(m, "up:early"), (Names{"m1", "l1", "l2", "l4"}));
  for (const auto& n : kAll) {
    EXPECT_TRUE(m.node(n).errors.empty()) << n << ": " << m.node(n).errors.front().to_string();
  }
}

// Loss, reordering and a partition of one subtree, with writes on both sides, then heal: every
// document ends where its direction allows, and nowhere else.
TEST(SyncTopology, TreeConvergesUnderLossAndPartition) {
  sim::LinkConfig link;
  link.delay = milliseconds(2);
  link.jitter = milliseconds(2);
  link.loss = 0.05;
  link.reorder = 0.05;
  Mesh m(93, tree_config());
  m.net().set_default_link(link);
  build_tree(m);
  const std::map<std::string, std::string> mid_of = {
      {"l1", "m1"}, {"l2", "m1"}, {"l3", "m2"}, {"l4", "m2"}};
  int v = 0;
  auto write_all = [&](const std::string& tag) {
    for (const auto& [leaf, mid] : mid_of) m.write(leaf, "up:" + leaf + tag, "v", ++v);
    m.write("root", "down:" + tag, "v", ++v);
    for (const auto& n : kAll) m.write(n, "notes:shared", n + tag, ++v);
  };
  write_all("a");
  m.loop().run_for(milliseconds(300));
  m.net().partition({{"root", "m1", "l1", "l2"}, {"m2", "l3", "l4"}});
  write_all("b");
  ASSERT_TRUE(m.node("root").engine->delete_document("down:a").ok());
  m.loop().run_for(seconds(5));
  m.net().heal();
  auto settled = [&] {
    if (!m.converged({"notes:shared", "down:b"})) return false;
    for (const auto& n : kAll) {
      if (has(m, n, "down:a") || !has_tombstone(m, n, "down:a")) return false;
    }
    for (const auto& [leaf, mid] : mid_of) {
      for (auto tag : {"a", "b"}) {
        Names want = {"root", mid, leaf};
        std::sort(want.begin(), want.end());
        Names got = holders(m, "up:" + leaf + tag);
        std::sort(got.begin(), got.end());
        if (got != want) return false;
      }
    }
    return true;
  };
  ASSERT_TRUE(m.loop().run_until(settled, seconds(60)));
  std::string shared = m.json_at("root", "notes:shared");
  for (const auto& n : kAll) EXPECT_NE(shared.find(n + "b"), std::string::npos) << n;
  for (const auto& n : kAll) {
    EXPECT_TRUE(m.node(n).errors.empty()) << n << ": " << m.node(n).errors.front().to_string();
  }
}

}  // namespace
}  // namespace peat::sync
