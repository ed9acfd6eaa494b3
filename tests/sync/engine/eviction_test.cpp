// Documents evicted under storage pressure (DocumentStore::evict): the engine never asks for
// them back, declines what peers push (Declined, 0x12) and peers stop pushing them.
#include <gtest/gtest.h>

#include "sync/engine/mesh_harness.hpp"

namespace peat::sync {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::Mesh;

bool evict(Mesh& m, const std::string& node, const std::string& key) {
  auto r = m.node(node).store->evict(key, m.loop().unix_millis());
  return r.ok() && *r;
}

TEST(SyncEviction, EvictedDocumentsAreDeclinedOnceAndNotPushedAgain) {
  Mesh m(31);
  m.add("a");
  m.add("b");
  m.link("a", "b");
  const std::vector<std::string> ks = {"notes:1", "notes:2", "tracks:t"};
  for (const auto& k : ks) m.write("a", k, "v", 1);
  ASSERT_TRUE(m.run_until_converged(ks, seconds(5)));

  ASSERT_TRUE(evict(m, "b", "notes:2"));   // FullHistory: Automerge session
  ASSERT_TRUE(evict(m, "b", "tracks:t"));  // LatestOnly: snapshots
  m.loop().run_for(seconds(1));
  EXPECT_NE(m.json_at("a", "notes:2"), "<absent>");  // eviction is local: no tombstone
  EXPECT_FALSE(m.node("a").store->base().get_tombstone("notes:2")->has_value());

  // a edits both: each is pushed once, declined once, and not pushed again.
  m.write("a", "notes:2", "v", 2);
  m.write("a", "tracks:t", "v", 2);
  m.loop().run_for(seconds(1));
  EXPECT_EQ(m.json_at("b", "notes:2"), "<absent>");
  EXPECT_EQ(m.json_at("b", "tracks:t"), "<absent>");
  auto sa = m.node("a").engine->stats("b");
  auto sb = m.node("b").engine->stats("a");
  EXPECT_EQ(sb.declined_evicted, 2u);
  EXPECT_EQ(sa.declined_by_peer, 2u);
  const auto deltas = sa.deltas_sent;
  const auto snapshots = sa.snapshots_sent;
  for (int i = 3; i < 6; ++i) {
    m.write("a", "notes:2", "v", i);
    m.write("a", "tracks:t", "v", i);
    m.write("a", "notes:1", "v", i);  // the others still sync
    m.loop().run_for(milliseconds(200));
  }
  ASSERT_TRUE(m.node("a").engine->reconcile_now("b").ok());  // a new round does not offer them
  m.loop().run_for(seconds(1));
  sa = m.node("a").engine->stats("b");
  sb = m.node("b").engine->stats("a");
  EXPECT_EQ(sb.declined_evicted, 2u);
  EXPECT_EQ(sa.snapshots_sent, snapshots);
  EXPECT_GT(sa.deltas_sent, deltas);  // notes:1 only
  EXPECT_TRUE(m.converged({"notes:1"}));
  EXPECT_EQ(m.json_at("b", "notes:2"), "<absent>");
  EXPECT_TRUE(m.node("a").errors.empty());
  EXPECT_TRUE(m.node("b").errors.empty());

  // A reconnect costs at most one more decline per evicted document.
  m.crash("a");
  m.restart("a");
  m.loop().run_for(seconds(3));
  EXPECT_LE(m.node("b").engine->stats("a").declined_evicted, 2u);
  EXPECT_EQ(m.json_at("b", "notes:2"), "<absent>");
  EXPECT_EQ(m.json_at("b", "tracks:t"), "<absent>");

  // A local write at b clears the mark: b syncs the document again (and gets a's history).
  m.write("b", "notes:2", "b", 1);
  ASSERT_TRUE(m.run_until_converged({"notes:2"}, seconds(5)));
  EXPECT_NE(m.json_at("b", "notes:2").find("\"v\":5"), std::string::npos);
  EXPECT_NE(m.json_at("a", "notes:2").find("\"b\":1"), std::string::npos);
  EXPECT_TRUE(m.node("b").errors.empty());
}

// On a line a - b - c, a document evicted at b is no longer relayed by b: c, reachable only
// through b, stops receiving edits to it (eviction trades downstream availability for space).
TEST(SyncEviction, EvictingRelayStopsRelayingThatDocument) {
  Mesh m(32);
  for (auto n : {"a", "b", "c"}) m.add(n);
  m.link("a", "b");
  m.link("b", "c");
  m.write("a", "notes:x", "v", 1);
  ASSERT_TRUE(m.run_until_converged({"notes:x"}, seconds(5)));
  ASSERT_TRUE(evict(m, "b", "notes:x"));
  m.write("a", "notes:x", "v", 2);
  m.loop().run_for(seconds(2));
  EXPECT_EQ(m.json_at("b", "notes:x"), "<absent>");
  EXPECT_EQ(m.json_at("c", "notes:x").find("\"v\":2"), std::string::npos);
  // c's own edit still reaches nobody through b; it is declined there as well.
  m.write("c", "notes:x", "c", 1);
  m.loop().run_for(seconds(1));
  EXPECT_EQ(m.node("b").engine->stats("c").declined_evicted, 1u);
  EXPECT_EQ(m.json_at("b", "notes:x"), "<absent>");
  for (auto n : {"a", "b", "c"}) EXPECT_TRUE(m.node(n).errors.empty()) << n;
}

}  // namespace
}  // namespace peat::sync
