// Windowed collections (track_history: 300 s by default): what is reconciled, and what a peer
// that lacks a document with a long history receives.
#include <gtest/gtest.h>

#include "sync/engine/mesh_harness.hpp"

namespace peat::sync {
namespace {

using std::chrono::seconds;
using test::Mesh;

// A document inside the window with 300 changes reaches a peer that lacks it as one compacted
// save() inside the Automerge session (V2 whole-document transfer), not change by change: the
// sender sends two messages (heads + Bloom filter, then heads + Bloom filter + save()).
TEST(SyncWindowed, PeerLackingADocumentGetsOneCompactedSave) {
  Mesh m(21);
  m.add("a");
  m.add("b");
  for (int i = 0; i < 300; ++i) m.write("a", "track_history:t1", "x" + std::to_string(i % 7), i);
  auto saved = m.node("a").store->get("track_history:t1");
  ASSERT_TRUE(saved.ok() && saved->has_value());
  const std::size_t save_size = (*saved)->save().size();
  m.link("a", "b");
  ASSERT_TRUE(m.run_until_converged({"track_history:t1"}, seconds(5)));
  m.loop().run_for(seconds(1));
  auto sa = m.node("a").engine->stats("b");
  EXPECT_EQ(sa.deltas_sent, 2u);
  // Everything a sent (negentropy, tombstone exchange, both messages) stays within 2.5 saves;
  // 300 separate change chunks would be several times the save.
  EXPECT_LT(sa.bytes_sent, save_size * 5 / 2) << "save " << save_size;
  EXPECT_EQ(m.json_at("b", "track_history:t1"), m.json_at("a", "track_history:t1"));
}

// The window bounds what a reconnect reconciles, not what a session carries: a document last
// written outside the window is not compared on reconnect (it stays diverged), and the next
// write to it starts a session that carries the missing history both ways.
TEST(SyncWindowed, OldDivergedDocumentWaitsForTheNextWrite) {
  Mesh m(22);
  m.add("a");
  m.add("b");
  m.link("a", "b");
  m.write("a", "track_history:x", "a", 1);
  ASSERT_TRUE(m.run_until_converged({"track_history:x"}, seconds(5)));
  m.net().partition({{"a"}, {"b"}});
  m.write("b", "track_history:x", "b", 2);
  m.loop().run_for(seconds(400));  // beyond the 300 s window; the link dropped meanwhile
  m.net().heal();
  m.loop().run_for(seconds(10));  // reconnected, reconciled: x was not offered
  EXPECT_EQ(m.json_at("a", "track_history:x").find("\"b\""), std::string::npos);
  EXPECT_FALSE(m.converged({"track_history:x"}));
  m.write("a", "track_history:x", "a2", 3);
  ASSERT_TRUE(m.run_until_converged({"track_history:x"}, seconds(5)));
  EXPECT_NE(m.json_at("a", "track_history:x").find("\"b\":2"), std::string::npos);
  EXPECT_NE(m.json_at("b", "track_history:x").find("\"a2\":3"), std::string::npos);
}

}  // namespace
}  // namespace peat::sync
