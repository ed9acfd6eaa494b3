#include "peat/store/doc_store.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/test_dir.hpp"

namespace peat::store {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr UnixMillis kT0 = 1'700'000'000'000;

std::string text(const Result<std::optional<Bytes>>& r) {
  if (!r.ok() || !r->has_value()) return "<absent>";
  return std::string(as_chars(**r));
}

WriteInfo at(std::uint64_t lamport, UnixMillis now = kT0) {
  WriteInfo w;
  w.lamport = lamport;
  w.now = now;
  return w;
}

class DocStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen(DocStoreOptions options = {}) {
    store_.reset();
    auto s = DocStore::open(dir_.str(), std::move(options));
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    store_ = std::move(*s);
  }
  test::TempDir dir_;
  std::unique_ptr<DocStore> store_;
};

TEST_F(DocStoreTest, KeysMustBeCollectionColonId) {
  EXPECT_TRUE(DocStore::split_key("nodes:a:b").ok());
  EXPECT_EQ(DocStore::split_key("nodes:a:b")->second, "a:b");
  for (const std::string& bad : std::vector<std::string>{
           "nocolon", ":id", "coll:", std::string("a:b\0c", 5), "c:" + std::string(500, 'x')}) {
    auto r = DocStore::split_key(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "INVALID_KEY");
  }
  Status st = store_->append("bad", as_bytes("x"), at(1));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "INVALID_KEY");
}

TEST_F(DocStoreTest, AppendKeepsSnapshotPlusTail) {
  ASSERT_TRUE(store_->replace("nodes:n1", as_bytes("SNAP"), at(1)).ok());
  ASSERT_TRUE(store_->append("nodes:n1", as_bytes("c1"), at(2)).ok());
  ASSERT_TRUE(store_->append("nodes:n1", as_bytes("c2"), at(3)).ok());
  EXPECT_EQ(text(store_->read("nodes:n1")), "SNAPc1c2");
  auto m = store_->meta("nodes:n1");
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->snapshot_bytes, 4u);
  EXPECT_EQ((*m)->tail_bytes, 4u);
  EXPECT_EQ((*m)->tail_chunks, 2u);
  EXPECT_EQ((*m)->lamport, 3u);
  ASSERT_TRUE(store_->replace("nodes:n1", as_bytes("NEW"), at(4)).ok());
  EXPECT_EQ(text(store_->read("nodes:n1")), "NEW");
  EXPECT_EQ((*store_->meta("nodes:n1"))->tail_chunks, 0u);
  EXPECT_EQ(text(store_->read("nodes:missing")), "<absent>");
  EXPECT_TRUE(store_->check_consistency().ok());
}

TEST_F(DocStoreTest, ListScanCountCollections) {
  for (const char* k : {"alpha:1", "alpha:2", "beta:1", "gamma:x:y", "alphabet:1"}) {
    ASSERT_TRUE(store_->append(k, as_bytes("v"), at(1)).ok());
  }
  EXPECT_EQ(*store_->list("alpha"), (std::vector<std::string>{"alpha:1", "alpha:2"}));
  EXPECT_EQ(store_->scan_prefix("alpha")->size(), 3u);
  EXPECT_EQ(*store_->count(), 5u);
  EXPECT_EQ(*store_->list_collections(),
            (std::vector<std::string>{"alpha", "alphabet", "beta", "gamma"}));
  EXPECT_TRUE(*store_->remove("alpha:1"));
  EXPECT_FALSE(*store_->remove("alpha:1"));
  EXPECT_EQ(*store_->count(), 4u);
}

TEST_F(DocStoreTest, CompactsWhenTheTailGrows) {
  int compactions = 0;
  DocStoreOptions o;
  o.compact_tail_chunks = 4;
  o.compactor = [&](ByteView all) -> Result<Bytes> {
    ++compactions;
    return Bytes(all.begin(), all.end());
  };
  reopen(o);
  std::string expected;
  for (int i = 0; i < 12; ++i) {
    std::string c = "<" + std::to_string(i) + ">";
    expected += c;
    ASSERT_TRUE(store_->append("docs:d", as_bytes(c), at(i + 1)).ok());
  }
  EXPECT_EQ(compactions, 2);  // after the 5th and the 10th chunk
  EXPECT_EQ(text(store_->read("docs:d")), expected);
  auto m = *store_->meta("docs:d");
  EXPECT_EQ(m->tail_chunks, 2u);
  auto sizes = store_->compact("docs:d");
  ASSERT_TRUE(sizes.ok());
  EXPECT_EQ(sizes->first, sizes->second);
  EXPECT_EQ((*store_->meta("docs:d"))->tail_chunks, 0u);
  EXPECT_EQ(text(store_->read("docs:d")), expected);
  EXPECT_TRUE(store_->check_consistency().ok());
}

TEST_F(DocStoreTest, FailingCompactorLeavesTheDocumentUnchanged) {
  DocStoreOptions o;
  o.compact_tail_chunks = 1;
  o.compactor = [](ByteView) -> Result<Bytes> { return make_error("BAD_DOC", "cannot load"); };
  reopen(o);
  ASSERT_TRUE(store_->append("docs:d", as_bytes("a"), at(1)).ok());
  Status st = store_->append("docs:d", as_bytes("b"), at(2));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "BAD_DOC");
  EXPECT_EQ(text(store_->read("docs:d")), "a");
}

TEST_F(DocStoreTest, CompactWithoutCompactorIsAnError) {
  ASSERT_TRUE(store_->append("docs:d", as_bytes("a"), at(1)).ok());
  auto r = store_->compact("docs:d");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "NO_COMPACTOR");
}

TEST_F(DocStoreTest, TombstoneBlocksOlderSnapshotsFromResurrecting) {
  // "tracks": Tombstone policy, delete wins.
  ASSERT_TRUE(store_->append("tracks:t1", as_bytes("v1"), at(5)).ok());
  auto del = store_->delete_document("tracks:t1", kT0 + 10, "node-a", 0, "gone");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->outcome, DeleteOutcome::kTombstoned);
  EXPECT_EQ(del->tombstone_expires_at, kT0 + 10 + 3'600'000);
  EXPECT_FALSE(store_->contains("tracks:t1"));
  auto tomb = store_->get_tombstone("tracks:t1");
  ASSERT_TRUE(tomb.ok() && tomb->has_value());
  EXPECT_EQ((*tomb)->lamport, 5u);  // inherits the document's Lamport value
  EXPECT_EQ((*tomb)->deleted_by, "node-a");

  // Replaying the old snapshot (or merging old changes) is refused.
  Status old = store_->replace("tracks:t1", as_bytes("v1"), at(5));
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, "TOMBSTONED");
  EXPECT_FALSE(store_->append("tracks:t1", as_bytes("v0"), at(3)).ok());
  // Delete wins: even a newer write stays deleted.
  EXPECT_FALSE(store_->append("tracks:t1", as_bytes("v2"), at(9)).ok());
  EXPECT_FALSE(store_->contains("tracks:t1"));
  // After restart too.
  reopen();
  EXPECT_EQ(store_->replace("tracks:t1", as_bytes("v1"), at(5)).error().code, "TOMBSTONED");
}

TEST_F(DocStoreTest, UpdateWinsCollectionAcceptsOnlyNewerWrites) {
  // "alerts": Tombstone policy, update wins.
  ASSERT_TRUE(store_->append("alerts:a", as_bytes("v1"), at(4)).ok());
  ASSERT_TRUE(store_->delete_document("alerts:a", kT0, "me", 6).ok());
  EXPECT_EQ(store_->append("alerts:a", as_bytes("old"), at(6)).error().code, "TOMBSTONED");
  ASSERT_TRUE(store_->append("alerts:a", as_bytes("new"), at(7)).ok());
  EXPECT_EQ(text(store_->read("alerts:a")), "new");
  EXPECT_FALSE(store_->get_tombstone("alerts:a")->has_value());
}

TEST_F(DocStoreTest, TombstoneWrittenForUnknownDocument) {
  auto del = store_->delete_document("nodes:never-seen", kT0, "me", 3);
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->outcome, DeleteOutcome::kTombstoned);
  EXPECT_EQ(store_->append("nodes:never-seen", as_bytes("late copy"), at(2)).error().code,
            "TOMBSTONED");
}

TEST_F(DocStoreTest, OtherPolicies) {
  store_->policies().set("ledger", DeletionPolicy::immutable());
  ASSERT_TRUE(store_->append("ledger:1", as_bytes("x"), at(1)).ok());
  EXPECT_EQ(store_->delete_document("ledger:1", kT0, "me")->outcome, DeleteOutcome::kImmutable);
  EXPECT_TRUE(store_->contains("ledger:1"));

  ASSERT_TRUE(store_->append("beacons:b", as_bytes("x"), at(1)).ok());
  EXPECT_EQ(store_->delete_document("beacons:b", kT0, "me")->outcome, DeleteOutcome::kTtlManaged);

  // Default: soft delete keeps the bytes but hides the key from listings.
  ASSERT_TRUE(store_->append("notes:1", as_bytes("x"), at(1)).ok());
  ASSERT_TRUE(store_->append("notes:2", as_bytes("y"), at(1)).ok());
  EXPECT_EQ(store_->delete_document("notes:1", kT0, "me")->outcome, DeleteOutcome::kSoftDeleted);
  EXPECT_EQ(*store_->list("notes"), std::vector<std::string>{"notes:2"});
  EXPECT_EQ(store_->list("notes", true)->size(), 2u);
  EXPECT_TRUE((*store_->meta("notes:1"))->soft_deleted);
  EXPECT_EQ(store_->delete_document("notes:404", kT0, "me")->outcome, DeleteOutcome::kNotFound);
}

TEST_F(DocStoreTest, ApplyTombstoneFromPeer) {
  ASSERT_TRUE(store_->append("nodes:n", as_bytes("x"), at(10)).ok());
  Tombstone t{"nodes", "n", kT0, "peer-b", 12, std::nullopt};
  EXPECT_TRUE(*store_->apply_tombstone(t));
  EXPECT_FALSE(store_->contains("nodes:n"));
  EXPECT_FALSE(*store_->apply_tombstone(t));  // same one again: no change
  Tombstone older = t;
  older.lamport = 11;
  EXPECT_FALSE(*store_->apply_tombstone(older));
  EXPECT_EQ((*store_->get_tombstone("nodes:n"))->lamport, 12u);
  EXPECT_EQ(store_->tombstones("nodes")->size(), 1u);
  EXPECT_EQ(store_->tombstones()->size(), 1u);
  EXPECT_TRUE(store_->tombstones("tracks")->empty());
  EXPECT_TRUE(*store_->remove_tombstone("nodes:n"));
}

TEST_F(DocStoreTest, UpdateWinsKeepsNewerDocumentOnRemoteTombstone) {
  ASSERT_TRUE(store_->append("alerts:a", as_bytes("x"), at(20)).ok());
  EXPECT_TRUE(*store_->apply_tombstone({"alerts", "a", kT0, "peer", 15, std::nullopt}));
  EXPECT_TRUE(store_->contains("alerts:a"));
  EXPECT_TRUE(*store_->apply_tombstone({"alerts", "a", kT0, "peer", 25, std::nullopt}));
  EXPECT_FALSE(store_->contains("alerts:a"));
}

TEST(Tombstone, JsonRoundTripInRustLayout) {
  Tombstone t{"nodes", "n-1", 1'700'000'000'123, "node-a", 42, "retired"};
  std::string json = t.to_json();
  EXPECT_NE(json.find("\"secs_since_epoch\":1700000000"), std::string::npos);
  EXPECT_NE(json.find("\"nanos_since_epoch\":123000000"), std::string::npos);
  auto back = Tombstone::from_json(json);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, t);
  EXPECT_FALSE(Tombstone::from_json("{\"collection\":1}").ok());
  EXPECT_FALSE(Tombstone::from_json("not json").ok());
  std::string huge = json;
  huge.replace(huge.find("1700000000"), 10, "18446744073709551615");
  EXPECT_EQ(Tombstone::from_json(huge).error().code, "INVALID_TOMBSTONE");
}

TEST_F(DocStoreTest, CollectionTtlIsRefreshedByEveryWrite) {
  // beacons: 600 s by default.
  ASSERT_TRUE(store_->append("beacons:b1", as_bytes("x"), at(1, kT0)).ok());
  ASSERT_TRUE(store_->append("notes:n1", as_bytes("x"), at(1, kT0)).ok());
  EXPECT_EQ((*store_->meta("beacons:b1"))->expires_at, kT0 + 600'000);
  EXPECT_EQ((*store_->meta("notes:n1"))->expires_at, 0u);
  // Refreshed at +500 s: the first deadline no longer applies.
  ASSERT_TRUE(store_->append("beacons:b1", as_bytes("y"), at(2, kT0 + 500'000)).ok());
  EXPECT_TRUE(store_->expire(kT0 + 600'000)->empty());
  EXPECT_TRUE(store_->contains("beacons:b1"));
  auto gone = store_->expire(kT0 + 1'100'000);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, std::vector<std::string>{"beacons:b1"});
  EXPECT_FALSE(store_->contains("beacons:b1"));
  EXPECT_TRUE(store_->contains("notes:n1"));
  EXPECT_TRUE(store_->check_consistency().ok());
}

TEST_F(DocStoreTest, ExplicitExpiry) {
  WriteInfo w = at(1, kT0);
  w.expires_at = kT0 + 10;
  ASSERT_TRUE(store_->append("notes:a", as_bytes("x"), w).ok());
  ASSERT_TRUE(store_->append("notes:b", as_bytes("x"), at(1)).ok());
  ASSERT_TRUE(store_->set_expiry("notes:b", kT0 + 20).ok());
  EXPECT_EQ(store_->set_expiry("notes:zz", kT0).error().code, "NOT_FOUND");
  EXPECT_TRUE(store_->expire(kT0 + 9)->empty());
  EXPECT_EQ(*store_->expire(kT0 + 10), std::vector<std::string>{"notes:a"});
  ASSERT_TRUE(store_->set_expiry("notes:b", 0).ok());  // cleared
  EXPECT_TRUE(store_->expire(kT0 + 1'000'000)->empty());
  EXPECT_TRUE(store_->contains("notes:b"));
}

TEST_F(DocStoreTest, GcDropsOldTombstonesAndStaleImplicitTtlDocuments) {
  ASSERT_TRUE(store_->delete_document("tracks:old", kT0, "me", 1).ok());   // 1 h TTL
  ASSERT_TRUE(store_->delete_document("nodes:young", kT0, "me", 1).ok());  // 24 h TTL
  DocStoreOptions o;
  o.ttl.beacon_ttl = hours(100);  // keep the TTL index out of the way
  reopen(o);
  ASSERT_TRUE(store_->append("platforms:p-old", as_bytes("x"), at(1, kT0)).ok());
  ASSERT_TRUE(store_->append("platforms:p-new", as_bytes("x"), at(1, kT0 + 3'000'000)).ok());
  auto stats = store_->gc(kT0 + 3'600'001 + 1'000);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->tombstones_removed, 1u);
  EXPECT_EQ(stats->documents_removed, 1u);
  EXPECT_FALSE(store_->get_tombstone("tracks:old")->has_value());
  EXPECT_TRUE(store_->get_tombstone("nodes:young")->has_value());
  EXPECT_FALSE(store_->contains("platforms:p-old"));
  EXPECT_TRUE(store_->contains("platforms:p-new"));
}

TEST_F(DocStoreTest, GeohashIndex) {
  WriteInfo w = at(1);
  w.geohash = "9q60y60";
  ASSERT_TRUE(store_->append("tracks:a", as_bytes("x"), w).ok());
  w.geohash = "9q60y61";
  ASSERT_TRUE(store_->append("tracks:b", as_bytes("x"), w).ok());
  w.geohash = "u4pruyd";
  ASSERT_TRUE(store_->append("tracks:c", as_bytes("x"), w).ok());
  EXPECT_EQ(*store_->find_in_cell("9q60y60"), std::vector<std::string>{"tracks:a"});
  EXPECT_EQ(*store_->find_by_geohash_prefix("9q60y"),
            (std::vector<std::string>{"tracks:a", "tracks:b"}));
  EXPECT_EQ(*store_->find_in_cells({"u4pruyd", "9q60y60", "zzzzzzz", "u4pruyd"}),
            (std::vector<std::string>{"tracks:a", "tracks:c"}));
  // Moving a document updates the index; writes without a geohash keep it.
  w.geohash = "u4pruyd";
  ASSERT_TRUE(store_->append("tracks:a", as_bytes("y"), w).ok());
  ASSERT_TRUE(store_->append("tracks:a", as_bytes("z"), at(2)).ok());
  EXPECT_TRUE(store_->find_in_cell("9q60y60")->empty());
  EXPECT_EQ(store_->find_in_cell("u4pruyd")->size(), 2u);
  ASSERT_TRUE(store_->remove("tracks:c").ok());
  EXPECT_EQ(*store_->find_in_cell("u4pruyd"), std::vector<std::string>{"tracks:a"});
  w.geohash = std::string("bad\0", 4);
  EXPECT_EQ(store_->append("tracks:d", as_bytes("x"), w).error().code, "INVALID_GEOHASH");
  EXPECT_TRUE(store_->check_consistency().ok());
}

TEST_F(DocStoreTest, SubscriptionsReceiveKeysUntilCancelled) {
  std::vector<std::string> seen;
  auto sub = store_->subscribe("nodes:", [&](const ChangeEvent& e) {
    seen.push_back(e.key + "/" + std::to_string(static_cast<int>(e.kind)));
  });
  ASSERT_TRUE(store_->append("nodes:1", as_bytes("x"), at(1)).ok());
  ASSERT_TRUE(store_->append("tracks:1", as_bytes("x"), at(1)).ok());
  ASSERT_TRUE(store_->delete_document("nodes:1", kT0, "me").ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"nodes:1/0", "nodes:1/1"}));
  // A refused write notifies nobody.
  EXPECT_FALSE(store_->append("nodes:1", as_bytes("x"), at(0)).ok());
  EXPECT_EQ(seen.size(), 2u);
  sub.cancel();
  ASSERT_TRUE(store_->append("nodes:2", as_bytes("x"), at(1)).ok());
  EXPECT_EQ(seen.size(), 2u);
}

TEST_F(DocStoreTest, SubscriptionEndsWhenHandleIsDestroyed) {
  int calls = 0;
  {
    auto sub = store_->subscribe("", [&](const ChangeEvent&) { ++calls; });
    ASSERT_TRUE(store_->append("a:1", as_bytes("x"), at(1)).ok());
  }
  ASSERT_TRUE(store_->append("a:2", as_bytes("x"), at(1)).ok());
  EXPECT_EQ(calls, 1);
}

TEST_F(DocStoreTest, BatchCommitsAllOrNothing) {
  int events = 0;
  auto sub = store_->subscribe("", [&](const ChangeEvent&) { ++events; });
  Status st = store_->batch([&](DocStore::Batch& b) -> Status {
    PEAT_TRY_STATUS(b.append("a:1", as_bytes("x"), at(1)));
    PEAT_TRY_STATUS(b.replace("a:2", as_bytes("y"), at(1)));
    auto seen = b.read("a:1");  // writes are visible inside the batch
    EXPECT_TRUE(seen.ok() && seen->has_value());
    return {};
  });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(events, 2);
  EXPECT_EQ(*store_->count(), 2u);
  st = store_->batch([&](DocStore::Batch& b) -> Status {
    PEAT_TRY_STATUS(b.append("a:3", as_bytes("z"), at(1)));
    return b.append("invalid", as_bytes("z"), at(1));
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "INVALID_KEY");
  EXPECT_FALSE(store_->contains("a:3"));
  EXPECT_EQ(events, 2);
}

TEST_F(DocStoreTest, EverythingSurvivesReopen) {
  WriteInfo w = at(3);
  w.geohash = "9q60y";
  ASSERT_TRUE(store_->replace("nodes:a", as_bytes("S"), w).ok());
  ASSERT_TRUE(store_->append("nodes:a", as_bytes("c"), at(4)).ok());
  ASSERT_TRUE(store_->delete_document("tracks:x", kT0, "me", 7).ok());
  reopen();
  EXPECT_EQ(text(store_->read("nodes:a")), "Sc");
  EXPECT_EQ((*store_->meta("nodes:a"))->lamport, 4u);
  EXPECT_EQ(*store_->find_in_cell("9q60y"), std::vector<std::string>{"nodes:a"});
  EXPECT_EQ((*store_->get_tombstone("tracks:x"))->lamport, 7u);
  EXPECT_TRUE(store_->check_consistency().ok());
}

}  // namespace
}  // namespace peat::store
