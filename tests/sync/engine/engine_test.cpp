// Two and three peer behaviour of the SyncEngine on the simulated network.
#include <gtest/gtest.h>

#include "peat/doc/sync/state.hpp"
#include "peat/doc/sync/sync.hpp"
#include "sync/engine/mesh_harness.hpp"

namespace peat::sync {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test::Mesh;

std::vector<std::string> keys(const std::string& coll, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(coll + ":" + std::to_string(i));
  return out;
}

TEST(SyncEngine, EmptyPeerReceivesEverything) {
  Mesh m(1);
  m.add("a");
  m.add("b");
  auto ks = keys("notes", 30);
  for (const auto& k : ks) m.write("a", k, "x", 1);
  m.link("a", "b");
  ASSERT_TRUE(m.run_until_converged(ks, seconds(5)));
  for (const auto& k : ks) EXPECT_EQ(m.json_at("b", k), m.json_at("a", k));
  EXPECT_EQ(m.node("a").engine->stats("b").docs_found_different +
                m.node("b").engine->stats("a").docs_found_different,
            30u);
  EXPECT_TRUE(m.node("a").errors.empty());
  EXPECT_TRUE(m.node("b").errors.empty());
}

TEST(SyncEngine, DivergedPeersConvergeAndOnlyDifferencesAreSynced) {
  Mesh m(2);
  m.add("a");
  m.add("b");
  auto ks = keys("notes", 40);
  for (const auto& k : ks) m.write("a", k, "base", 1);
  m.link("a", "b");
  ASSERT_TRUE(m.run_until_converged(ks, seconds(5)));
  m.net().partition({{"a"}, {"b"}});
  m.write("a", "notes:3", "a_side", 1);
  m.write("b", "notes:3", "b_side", 2);
  m.write("a", "notes:a_only", "v", 1);
  m.write("b", "notes:b_only", "v", 2);
  m.loop().run_for(seconds(5));  // idle timeout: both sides drop the connection
  m.net().heal();
  std::vector<std::string> all = ks;
  all.push_back("notes:a_only");
  all.push_back("notes:b_only");
  ASSERT_TRUE(m.run_until_converged(all, seconds(20)));
  EXPECT_EQ(m.json_at("a", "notes:3"), m.json_at("b", "notes:3"));
  EXPECT_NE(m.json_at("a", "notes:3").find("a_side"), std::string::npos);
  EXPECT_NE(m.json_at("a", "notes:3").find("b_side"), std::string::npos);
  // The reconnect round found exactly the documents that differ (3 ids on each side at most).
  auto sa = m.node("a").engine->stats("b");
  auto sb = m.node("b").engine->stats("a");
  EXPECT_LE(sa.docs_found_different + sb.docs_found_different, 6u);
  EXPECT_LE(sa.deltas_sent + sb.deltas_sent, 24u);
}

TEST(SyncEngine, OneChangeApartIsOneDocument) {
  Mesh m(3);
  m.add("a");
  m.add("b");
  auto ks = keys("notes", 100);
  for (const auto& k : ks) m.write("a", k, "v", 1);
  m.link("a", "b");
  ASSERT_TRUE(m.run_until_converged(ks, seconds(5)));
  m.crash("b");
  m.write("a", "notes:42", "v", 2);
  m.restart("b");
  ASSERT_TRUE(m.run_until_converged(ks, seconds(10)));
  // a initiates ("a" < "b"): it sees two ids for the one changed document (its new version and
  // b's old one); b maps the need list back to its one key.
  EXPECT_EQ(m.node("a").engine->stats("b").docs_found_different, 2u);
  EXPECT_EQ(m.node("b").engine->stats("a").docs_found_different, 1u);
}

TEST(SyncEngine, LocalChangeIsPushedPromptly) {
  Mesh m(4);
  m.add("a");
  m.add("b");
  m.link("a", "b");
  m.write("a", "notes:x", "v", 1);
  ASSERT_TRUE(m.run_until_converged({"notes:x"}, seconds(2)));
  Instant t0 = m.loop().now();
  m.write("a", "notes:x", "v", 2);
  ASSERT_TRUE(m.loop().run_until(
      [&] { return m.json_at("b", "notes:x") == m.json_at("a", "notes:x"); }, seconds(2)));
  // Default links: 1 ms one way. A known peer needs one message: far below any polling period.
  EXPECT_LT(m.loop().now() - t0, milliseconds(20));
}

TEST(SyncEngine, LatestOnlyCollectionsSyncBySnapshot) {
  Mesh m(5);
  m.add("a");
  m.add("b");
  m.write("a", "tracks:t1", "lat", 10);
  m.write("b", "tracks:t2", "lat", 20);
  m.link("a", "b");
  ASSERT_TRUE(m.run_until_converged({"tracks:t1", "tracks:t2"}, seconds(5)));
  m.write("b", "tracks:t1", "lon", 5);
  ASSERT_TRUE(m.run_until_converged({"tracks:t1"}, seconds(2)));
  EXPECT_NE(m.json_at("a", "tracks:t1").find("lon"), std::string::npos);
  EXPECT_GT(
      m.node("a").engine->stats("b").snapshots_sent + m.node("b").engine->stats("a").snapshots_sent,
      0u);
  EXPECT_EQ(m.node("a").engine->stats("b").deltas_sent, 0u);
}

// A delete on one node removes the document everywhere, and a stale copy that comes back
// later (a node that was down during the delete) cannot resurrect it, on the snapshot path
// (tracks: LatestOnly) and on the delta path (a FullHistory collection with a tombstone policy).
TEST(SyncEngine, DeletesStayDeletedIncludingStalePeer) {
  Mesh m(6);
  for (auto n : {"a", "b", "c"}) {
    m.add(n);
    m.node(n).store->base().policies().set(
        "orders", store::DeletionPolicy::tombstone(std::chrono::hours(24), true));
  }
  m.link("a", "b");
  m.link("b", "c");
  std::vector<std::string> ks = {"tracks:t1", "orders:o1", "tracks:keep"};
  for (const auto& k : ks) m.write("a", k, "v", 1);
  ASSERT_TRUE(m.run_until_converged(ks, seconds(5)));
  m.crash("c");
  auto del1 = m.node("a").engine->delete_document("tracks:t1");
  auto del2 = m.node("a").engine->delete_document("orders:o1");
  ASSERT_TRUE(del1.ok() && del2.ok());
  EXPECT_EQ(del1->outcome, store::DeleteOutcome::kTombstoned);
  m.loop().run_for(seconds(1));
  EXPECT_EQ(m.json_at("b", "tracks:t1"), "<absent>");
  EXPECT_EQ(m.json_at("b", "orders:o1"), "<absent>");
  m.restart("c");  // still holds both documents
  EXPECT_NE(m.json_at("c", "orders:o1"), "<absent>");
  m.loop().run_for(seconds(5));
  for (auto n : {"a", "b", "c"}) {
    EXPECT_EQ(m.json_at(n, "tracks:t1"), "<absent>") << n;
    EXPECT_EQ(m.json_at(n, "orders:o1"), "<absent>") << n;
    EXPECT_NE(m.json_at(n, "tracks:keep"), "<absent>") << n;
  }
  // Writing the deleted document again locally is refused by the store (delete wins).
  auto got = m.node("c").store->get("orders:o1");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
}

TEST(SyncEngine, StaleSnapshotAndDeltaFramesAreRefusedWithTheTombstone) {
  Mesh m(7);
  m.add("a");
  m.add("b");
  m.node("a").store->base().policies().set(
      "orders", store::DeletionPolicy::tombstone(std::chrono::hours(24), true));
  m.write("a", "orders:o1", "v", 1);
  ASSERT_TRUE(m.node("a").engine->delete_document("orders:o1").ok());
  // b holds an old copy and pushes it: a must refuse it and answer with the tombstone.
  m.node("b").store->base().policies().set(
      "orders", store::DeletionPolicy::tombstone(std::chrono::hours(24), true));
  m.write("b", "orders:o1", "v", 1);
  m.write("b", "tracks:t9", "v", 1);
  ASSERT_TRUE(m.node("a").engine->delete_document("tracks:t9").ok() || true);
  m.link("a", "b");
  m.loop().run_for(seconds(3));
  EXPECT_EQ(m.json_at("a", "orders:o1"), "<absent>");
  EXPECT_EQ(m.json_at("b", "orders:o1"), "<absent>");
  auto t = m.node("b").store->base().get_tombstone("orders:o1");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->has_value());
}

// Ids that do not match the transport's: both sides or neither consider themselves initiator.
// Concurrent rounds stay apart (0x09 replies vs 0x11 continuations) and the fallback timer
// starts a round when nobody did.
TEST(SyncEngine, NegentropyRolesAreRobust) {
  for (auto ids : {std::pair<std::string, std::string>{"a", "0"}, {"z", "zz"}}) {
    SyncEngineConfig cfg;
    cfg.negentropy_frame_limit = 4096;  // several rounds
    Mesh m(14, cfg);
    m.add("a");
    m.add("b");
    SyncEngineConfig ca = cfg, cb = cfg;
    ca.node_id = ids.first;
    cb.node_id = ids.second;
    m.replace_engine("a", ca);
    m.replace_engine("b", cb);
    std::vector<std::string> ks;
    for (int i = 0; i < 600; ++i) {
      ks.push_back("notes:" + std::to_string(i));
      m.write(i % 2 ? "a" : "b", ks.back(), "v", i);
    }
    m.link("a", "b");
    ASSERT_TRUE(m.run_until_converged(ks, seconds(20))) << ids.first << "/" << ids.second;
    EXPECT_TRUE(m.node("a").errors.empty()) << m.node("a").errors.front().to_string();
    EXPECT_TRUE(m.node("b").errors.empty()) << m.node("b").errors.front().to_string();
    EXPECT_GT(m.node("a").engine->stats("b").negentropy_rounds, 2u);
  }
}

// The batch path: snapshot and delta entries for a tombstoned key inside a SyncBatch (as a Rust
// node sends them) are refused too, and the peer gets the tombstone back.
TEST(SyncEngine, TombstoneGuardCoversBatchEntries) {
  Mesh m(16);
  m.add("a");
  m.add("b");
  m.link("a", "b");
  m.write("a", "tracks:z", "v", 1);
  ASSERT_TRUE(m.run_until_converged({"tracks:z"}, seconds(2)));
  ASSERT_TRUE(m.node("a").engine->delete_document("tracks:z").ok());
  m.loop().run_for(milliseconds(100));
  doc::Document old(Mesh::actor_for("b"));
  ASSERT_TRUE(old.put(doc::kRoot, "v", std::int64_t{99}).ok());
  Bytes snapshot = old.save();
  doc::sync::State fresh;
  auto delta = doc::sync::generate_sync_message(old, fresh);
  ASSERT_TRUE(delta.has_value());
  SyncBatch b{0,
              0,
              5,
              {Frame{"tracks:z", MessageType::kStateSnapshot, snapshot},
               Frame{"tracks:z", MessageType::kDeltaSync, *delta}}};
  auto frame = encode_frame(kBatchKey, MessageType::kSyncBatch, *encode_sync_batch(b));
  ASSERT_TRUE(frame.ok());
  m.node("a").engine->on_message("b", *frame);
  EXPECT_EQ(m.json_at("a", "tracks:z"), "<absent>");
  EXPECT_EQ(m.node("a").engine->stats("b").dropped_tombstoned, 2u);
  m.loop().run_for(milliseconds(100));
  EXPECT_EQ(m.json_at("b", "tracks:z"), "<absent>");
}

TEST(SyncEngine, SyncStatesPersistPerPeer) {
  Mesh m(8);
  m.add("a");
  m.add("b");
  m.link("a", "b");
  m.write("a", "notes:p", "v", 1);
  ASSERT_TRUE(m.run_until_converged({"notes:p"}, seconds(3)));
  m.loop().run_for(milliseconds(200));
  auto& env = m.node("a").store->base().env();
  auto db = env.open_db("sync_states");
  ASSERT_TRUE(db.ok());
  Bytes k = to_bytes("b");
  k.push_back(0);
  Bytes key2 = to_bytes("notes:p");
  k.insert(k.end(), key2.begin(), key2.end());
  bool found = false;
  ASSERT_TRUE(env.read([&](const store::Txn& t) -> Status {
                   auto v = t.get(*db, k);
                   if (v.ok() && v->has_value()) {
                     auto st = doc::sync::decode_state(**v);
                     found = st.ok() && st->shared_heads == m.heads_at("a", "notes:p");
                   }
                   return {};
                 })
                  .ok());
  EXPECT_TRUE(found);
}

TEST(SyncEngine, BandwidthCapAndPriorities) {
  SyncEngineConfig cfg;
  cfg.peer_bandwidth_bps = 20'000;  // bytes per second
  cfg.peer_burst_bytes = 4'000;
  Mesh m(9, cfg);
  m.add("a");
  m.add("b");
  std::vector<std::string> ks;
  for (int i = 0; i < 20; ++i) {
    ks.push_back("track_history:" + std::to_string(i));  // Bulk
    ks.push_back("alerts:" + std::to_string(i));         // Critical
  }
  for (const auto& k : ks) {
    for (int f = 0; f < 20; ++f) m.write("a", k, "f" + std::to_string(f), f);
  }
  std::vector<std::string> order;
  m.node("b").engine.reset();
  SyncEngineConfig bcfg = cfg;
  bcfg.node_id = "b";
  SyncEngineEvents ev;
  ev.on_remote_change = [&](const std::string& key, const PeerId&) { order.push_back(key); };
  m.node("b").engine =
      std::make_unique<SyncEngine>(m.loop(), *m.node("b").transport, *m.node("b").store, bcfg, ev);
  ASSERT_TRUE(m.node("b").engine->start().ok());
  m.node("b").engine->attach_events();
  Instant t0 = m.loop().now();
  m.link("a", "b");
  ASSERT_TRUE(m.run_until_converged(ks, seconds(60)));
  Duration took = m.loop().now() - t0;
  auto sent = m.node("a").engine->stats("b").bytes_sent;
  // The cap holds: a cannot have sent faster than burst + rate * time.
  double secs = std::chrono::duration<double>(took).count();
  EXPECT_LE(static_cast<double>(sent), 4'000 + 20'000 * secs + 1);
  EXPECT_GT(secs, 0.5);
  // Critical documents complete before bulk ones start arriving.
  std::size_t last_alert = 0, first_bulk = order.size();
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (order[i].rfind("alerts:", 0) == 0) last_alert = i;
    if (order[i].rfind("track_history:", 0) == 0) first_bulk = std::min(first_bulk, i);
  }
  EXPECT_LT(last_alert, first_bulk);
}

// A transport with a tiny send queue: the engine gets WOULD_BLOCK, keeps the refused frame,
// waits for on_writable and still delivers everything, in order.
TEST(SyncEngine, BackPressureFromTheTransport) {
  sim::SimTransportConfig tc;
  tc.window = 2;
  tc.send_queue_limit = 2;
  sim::LinkConfig slow;
  slow.delay = milliseconds(5);
  Mesh m(12, {}, tc);
  m.net().set_default_link(slow);
  m.add("a");
  m.add("b");
  auto ks = keys("notes", 150);
  for (const auto& k : ks) m.write("a", k, "v", 1);
  m.link("a", "b");
  ASSERT_TRUE(m.run_until_converged(ks, seconds(30)));
  EXPECT_GT(m.node("a").engine->stats("b").would_block, 0u);
  EXPECT_TRUE(m.node("a").errors.empty());
  EXPECT_TRUE(m.node("b").errors.empty());
}

// Relays that do not fit the per-peer control budget are dropped (counted), never queued
// without bound; the connect-time tombstone exchange still delivers them later.
TEST(SyncEngine, ControlQueueIsBounded) {
  SyncEngineConfig cfg;
  cfg.max_control_queue_bytes = 4096;
  cfg.peer_bandwidth_bps = 2'000;
  cfg.peer_burst_bytes = 1'000;
  Mesh m(13, cfg);
  m.add("a");
  m.add("b");
  m.link("a", "b");
  m.loop().run_for(milliseconds(200));
  for (int i = 0; i < 200; ++i) {
    std::string k = "tracks:" + std::to_string(i);
    m.write("a", k, "v", 1);
  }
  m.loop().run_for(milliseconds(10));
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(m.node("a").engine->delete_document("tracks:" + std::to_string(i)).ok());
  }
  m.loop().run_for(milliseconds(50));
  EXPECT_GT(m.node("a").engine->stats("b").relays_dropped, 0u);
  // Reconnect: the full tombstone exchange repairs what was dropped.
  m.net().partition({{"a"}, {"b"}});
  m.loop().run_for(seconds(5));
  m.net().heal();
  m.loop().run_for(seconds(60));
  auto ts = m.node("b").store->base().tombstones("tracks");
  ASSERT_TRUE(ts.ok());
  EXPECT_EQ(ts->size(), 200u);
}

TEST(SyncEngine, PeriodicResyncRepairsDroppedRelaysWithoutReconnect) {
  SyncEngineConfig cfg;
  cfg.max_control_queue_bytes = 4096;
  cfg.peer_bandwidth_bps = 2'000;
  cfg.peer_burst_bytes = 1'000;
  cfg.resync_interval = seconds(10);
  Mesh m(15, cfg);
  m.add("a");
  m.add("b");
  m.link("a", "b");
  m.loop().run_for(milliseconds(200));
  for (int i = 0; i < 100; ++i) m.write("a", "tracks:" + std::to_string(i), "v", 1);
  m.loop().run_for(milliseconds(10));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(m.node("a").engine->delete_document("tracks:" + std::to_string(i)).ok());
  }
  m.loop().run_for(milliseconds(50));
  EXPECT_GT(m.node("a").engine->stats("b").relays_dropped, 0u);
  m.loop().run_for(seconds(40));
  auto ts = m.node("b").store->base().tombstones("tracks");
  ASSERT_TRUE(ts.ok());
  EXPECT_EQ(ts->size(), 100u);
  EXPECT_EQ(m.node("a").engine->peers(), std::vector<PeerId>{"b"});  // never disconnected
}

TEST(SyncEngine, WindowedCollectionSkipsOldDocumentsOnReconcile) {
  Mesh m(10);
  m.add("a");
  m.add("b");
  m.write("a", "track_history:old", "v", 1);
  m.loop().run_for(seconds(400));  // beyond the 300 s window
  m.write("a", "track_history:new", "v", 1);
  m.link("a", "b");
  m.loop().run_for(seconds(3));
  EXPECT_NE(m.json_at("b", "track_history:new"), "<absent>");
  EXPECT_EQ(m.json_at("b", "track_history:old"), "<absent>");
}

TEST(SyncEngine, MalformedFramesAreReportedAndTheSessionSurvives) {
  Mesh m(11);
  m.add("a");
  m.add("b");
  m.link("a", "b");
  m.loop().run_for(milliseconds(100));
  auto& b = *m.node("b").engine;
  b.on_message("a", Bytes{0x00, 0x01});                                         // truncated
  b.on_message("a", *encode_frame("x", MessageType::kDeltaSync, Bytes{0x99}));  // bad sync msg
  b.on_message("a", *encode_frame("x", MessageType::kSyncBatch, Bytes{1, 2}));  // short batch
  b.on_message("a", *encode_frame("tombstones:x:y", MessageType::kTombstone, Bytes{0, 1, 'x'}));
  EXPECT_EQ(m.node("b").errors.size(), 4u);
  m.write("a", "notes:after", "v", 1);
  ASSERT_TRUE(m.run_until_converged({"notes:after"}, seconds(2)));
}

}  // namespace
}  // namespace peat::sync
