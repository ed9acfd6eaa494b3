#include "peat/store/storage_backend.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <utility>

#include "store/two_stores.hpp"

namespace peat::store {
namespace {

using test_support::kT0;

Bytes bytes(std::initializer_list<std::uint8_t> b) {
  return Bytes(b);
}

std::vector<doc::ChangeHash> heads_of(const DocumentStore& store, const std::string& key) {
  auto d = store.get(key);
  if (!d.ok() || !d->has_value()) return {};
  return (*d)->get_heads();
}

class StorageBackendTest : public test_support::TwoStoresTest {
 protected:
  void SetUp() override {
    TwoStoresTest::SetUp();
    backend_a_ = std::make_unique<StorageBackend>(*a_, "node-a");
    backend_b_ = std::make_unique<StorageBackend>(*b_, "node-b");
  }
  std::shared_ptr<Collection> coll(StorageBackend& backend, const std::string& name) {
    auto c = backend.collection(name);
    EXPECT_TRUE(c.ok()) << c.error().to_string();
    return c.ok() ? *c : nullptr;
  }
  std::unique_ptr<StorageBackend> backend_a_, backend_b_;
};

TEST_F(StorageBackendTest, CollectionIsGetOrCreateWithOneHandlePerName) {
  auto first = coll(*backend_a_, "sensors");
  auto again = coll(*backend_a_, "sensors");
  EXPECT_EQ(first.get(), again.get());
  EXPECT_NE(first.get(), coll(*backend_a_, "other").get());
  EXPECT_EQ(first->name(), "sensors");
  for (const char* bad : {"", "a:b"}) {
    auto c = backend_a_->collection(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.error().code, "INVALID_ARGUMENT");
  }
  // Opened collections and collections that hold documents.
  ASSERT_TRUE(a_->put_json("nodes:n1", {{"x", 1}}, kT0).ok());
  EXPECT_EQ(*backend_a_->list_collections(),
            (std::vector<std::string>{"nodes", "other", "sensors"}));
}

TEST_F(StorageBackendTest, PayloadIsABytesScalarUnderData) {
  auto c = coll(*backend_a_, "sensors");
  Bytes v1 = bytes({0, 1, 2, 0xFF, 0});
  ASSERT_TRUE(c->upsert("s1", v1, kT0).ok());
  EXPECT_EQ(**c->get("s1"), v1);
  auto d = a_->get("sensors:s1");
  ASSERT_TRUE(d.ok() && d->has_value());
  auto data = (*d)->get(doc::kRoot, std::string("data"));
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(std::get<doc::ScalarValue>(*data), doc::ScalarValue(v1));
  // An unchanged payload adds no change; a new one replaces it.
  auto heads = (*d)->get_heads();
  ASSERT_TRUE(c->upsert("s1", v1, kT0 + 1).ok());
  EXPECT_EQ(heads_of(*a_, "sensors:s1"), heads);
  ASSERT_TRUE(c->upsert("s1", bytes({7}), kT0 + 2).ok());
  EXPECT_EQ(**c->get("s1"), bytes({7}));
  EXPECT_NE(heads_of(*a_, "sensors:s1"), heads);
  ASSERT_TRUE(c->upsert("empty", {}, kT0).ok());  // an empty payload is a value
  EXPECT_EQ(**c->get("empty"), Bytes{});
  EXPECT_FALSE(c->get("absent")->has_value());
  EXPECT_EQ(c->upsert("", v1, kT0).error().code, "INVALID_KEY");
}

TEST_F(StorageBackendTest, RemoveFollowsPolicyAndIsANoOpWhenAbsent) {
  auto tracks = coll(*backend_a_, "tracks");  // Tombstone policy, delete wins
  auto r = tracks->remove("never", kT0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, DeleteOutcome::kNotFound);
  EXPECT_FALSE(a_->base().get_tombstone("tracks:never")->has_value());  // nothing written
  ASSERT_TRUE(tracks->upsert("t1", bytes({1}), kT0).ok());
  EXPECT_EQ(tracks->remove("t1", kT0 + 1)->outcome, DeleteOutcome::kTombstoned);
  EXPECT_EQ((*a_->base().get_tombstone("tracks:t1"))->deleted_by, "node-a");
  EXPECT_FALSE(tracks->get("t1")->has_value());
  EXPECT_EQ(tracks->upsert("t1", bytes({2}), kT0 + 2).error().code, "TOMBSTONED");

  auto sensors = coll(*backend_a_, "sensors");  // SoftDelete: hidden, revived by an upsert
  ASSERT_TRUE(sensors->upsert("s1", bytes({1}), kT0).ok());
  EXPECT_EQ(sensors->remove("s1", kT0 + 1)->outcome, DeleteOutcome::kSoftDeleted);
  EXPECT_FALSE(sensors->get("s1")->has_value());
  EXPECT_EQ(*sensors->count(), 0u);
  EXPECT_EQ(sensors->remove("s1", kT0 + 2)->outcome, DeleteOutcome::kNotFound);
  ASSERT_TRUE(sensors->upsert("s1", bytes({3}), kT0 + 3).ok());
  EXPECT_EQ(**sensors->get("s1"), bytes({3}));
  EXPECT_EQ(*sensors->count(), 1u);
}

TEST_F(StorageBackendTest, DocumentsWithoutBytesDataAreInvisible) {
  auto c = coll(*backend_a_, "sensors");
  ASSERT_TRUE(c->upsert("real", bytes({9}), kT0).ok());
  ASSERT_TRUE(a_->put_json("sensors:json", {{"data", "text, not bytes"}}, kT0).ok());
  ASSERT_TRUE(a_->put_json("sensors:nodata", {{"other", 1}}, kT0).ok());
  EXPECT_FALSE(c->get("json")->has_value());
  EXPECT_FALSE(c->get("nodata")->has_value());
  ASSERT_EQ(c->scan()->size(), 1u);
  EXPECT_EQ(*c->count(), 1u);
  EXPECT_EQ(c->remove("json", kT0)->outcome, DeleteOutcome::kNotFound);
  EXPECT_TRUE(a_->get_json("sensors:json")->has_value());  // left alone
}

TEST_F(StorageBackendTest, ScanFindGeohashPrefixAndCount) {
  auto c = coll(*backend_a_, "positions");
  ASSERT_TRUE(c->upsert("9q60y:b", bytes({2}), kT0).ok());
  ASSERT_TRUE(c->upsert("9q60y:a", bytes({1}), kT0).ok());
  ASSERT_TRUE(c->upsert("9q60z:c", bytes({3}), kT0).ok());
  ASSERT_TRUE(c->upsert("9q61a:d", bytes({4}), kT0).ok());
  ASSERT_TRUE(c->upsert("dr5r:e", bytes({5}), kT0).ok());
  ASSERT_TRUE(coll(*backend_a_, "positions2")->upsert("9q60y:z", bytes({6}), kT0).ok());

  auto all = c->scan();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0], (Collection::Row{"9q60y:a", bytes({1})}));  // id order
  auto near = c->query_geohash_prefix("9q60");
  ASSERT_EQ(near->size(), 3u);
  EXPECT_EQ((*near)[2].first, "9q60z:c");
  EXPECT_EQ(c->query_geohash_prefix("9q60y")->size(), 2u);
  EXPECT_TRUE(c->query_geohash_prefix("u")->empty());
  auto odd = c->find([](ByteView b) { return !b.empty() && b[0] % 2 == 1; });
  ASSERT_EQ(odd->size(), 3u);
  EXPECT_EQ((*odd)[1].first, "9q60z:c");
  EXPECT_EQ(*c->count(), 5u);
  ASSERT_TRUE(c->remove("dr5r:e", kT0 + 1).ok());
  EXPECT_EQ(*c->count(), 4u);
  EXPECT_EQ(*c->count(), 4u);  // second count from remembered states
}

TEST_F(StorageBackendTest, CountSeesChangesMadeOutsideTheView) {
  auto c = coll(*backend_a_, "sensors");
  ASSERT_TRUE(c->upsert("s1", bytes({1}), kT0).ok());
  ASSERT_TRUE(c->upsert("s2", bytes({2}), kT0).ok());
  EXPECT_EQ(*c->count(), 2u);
  // Another writer replaces s1's payload by a string: s1 leaves the view.
  auto d = a_->get("sensors:s1");
  ASSERT_TRUE((*d)->put(doc::kRoot, std::string("data"), std::string("text")).ok());
  ASSERT_TRUE(a_->put("sensors:s1", **d, kT0 + 1).ok());
  EXPECT_EQ(*c->count(), 1u);
  // A peer's soft delete of s2 arrives.
  ASSERT_TRUE(c->upsert("s3", bytes({3}), kT0).ok());
  send(*a_, *b_, "sensors:s2");
  auto peer = coll(*backend_b_, "sensors");
  ASSERT_TRUE(peer->remove("s2", kT0 + 2).ok());
  send(*b_, *a_, "sensors:s2");
  EXPECT_EQ(*c->count(), 1u);
  EXPECT_FALSE(c->get("s2")->has_value());
  // A hard delete underneath.
  ASSERT_TRUE(*a_->base().remove("sensors:s3"));
  EXPECT_EQ(*c->count(), 0u);
}

TEST_F(StorageBackendTest, TwoStoresConvergeThroughMergeBytes) {
  auto ca = coll(*backend_a_, "sensors");
  auto cb = coll(*backend_b_, "sensors");
  ASSERT_TRUE(ca->upsert("k", bytes({1, 1}), kT0).ok());
  send(*a_, *b_, "sensors:k");
  EXPECT_EQ(**cb->get("k"), bytes({1, 1}));
  EXPECT_EQ(*cb->count(), 1u);

  // Concurrent upserts on both sides, then a full exchange: both pick the same winner.
  ASSERT_TRUE(ca->upsert("k", bytes({2}), kT0 + 1).ok());
  ASSERT_TRUE(cb->upsert("k", bytes({3}), kT0 + 1).ok());
  ASSERT_TRUE(cb->upsert("only-b", bytes({4}), kT0 + 1).ok());
  send(*a_, *b_, "sensors:k");
  send(*b_, *a_, "sensors:k");
  send(*b_, *a_, "sensors:only-b");
  auto va = ca->get("k");
  auto vb = cb->get("k");
  ASSERT_TRUE(va.ok() && vb.ok() && va->has_value());
  EXPECT_EQ(**va, **vb);
  EXPECT_TRUE(**va == bytes({2}) || **va == bytes({3}));
  EXPECT_EQ(heads_of(*a_, "sensors:k"), heads_of(*b_, "sensors:k"));
  EXPECT_EQ(*ca->scan(), *cb->scan());

  // A delete on B reaches A.
  ASSERT_TRUE(cb->remove("k", kT0 + 2).ok());
  send(*b_, *a_, "sensors:k");
  EXPECT_FALSE(ca->get("k")->has_value());
  EXPECT_EQ(*ca->count(), 1u);
}

TEST_F(StorageBackendTest, OwnedStoreSurvivesCloseAndReopen) {
  std::string dir = dir_.sub("owned");
  {
    auto backend = StorageBackend::open(dir, doc::ActorId(16, 0xC3));
    ASSERT_TRUE(backend.ok()) << backend.error().to_string();
    auto c = coll(**backend, "sensors");
    ASSERT_TRUE(c->upsert("s1", bytes({5}), kT0).ok());
    ASSERT_TRUE((*backend)->flush().ok());
    ASSERT_TRUE((*backend)->close().ok());
    EXPECT_TRUE((*backend)->close().ok());  // idempotent
    EXPECT_EQ(c->get("s1").error().code, "STORE_CLOSED");
    EXPECT_EQ(c->upsert("s2", bytes({1}), kT0).error().code, "STORE_CLOSED");
    EXPECT_EQ(c->count().error().code, "STORE_CLOSED");
    EXPECT_EQ((*backend)->collection("x").error().code, "STORE_CLOSED");
    EXPECT_EQ((*backend)->flush().error().code, "STORE_CLOSED");
  }
  auto again = StorageBackend::open(dir, doc::ActorId(16, 0xC3));
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  auto c = coll(**again, "sensors");
  EXPECT_EQ(**c->get("s1"), bytes({5}));
  again->reset();  // a handle outliving its backend fails cleanly
  EXPECT_EQ(c->scan().error().code, "STORE_CLOSED");
}

TEST_F(StorageBackendTest, ConcurrentUpsertsOfOneKeyAreSerialised) {
  // Both threads write the same document with the store's one actor: without serialisation two
  // changes would claim the same sequence number.
  auto c = coll(*backend_a_, "sensors");
  auto writer = [&](std::uint8_t tag) {
    for (std::uint8_t i = 0; i < 10; ++i) {
      ASSERT_TRUE(c->upsert("shared", bytes({tag, i}), kT0 + i).ok());
      ASSERT_TRUE(c->upsert("own-" + std::to_string(tag), bytes({i}), kT0 + i).ok());
      ASSERT_TRUE(c->count().ok());
    }
  };
  std::thread t1(writer, std::uint8_t{1});
  std::thread t2(writer, std::uint8_t{2});
  t1.join();
  t2.join();
  auto last = c->get("shared");
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_TRUE(**last == bytes({1, 9}) || **last == bytes({2, 9}));
  EXPECT_EQ(**c->get("own-1"), bytes({9}));
  EXPECT_EQ(*c->count(), 3u);
  EXPECT_TRUE(a_->base().check_consistency().ok());
  // The history holds every write: 20 changes to "shared" from one actor, in sequence.
  auto d = a_->get("sensors:shared");
  ASSERT_TRUE(d.ok() && d->has_value());
  auto changes = (*d)->changes_info();
  ASSERT_EQ(changes.size(), 20u);
  for (std::size_t i = 0; i < changes.size(); ++i) EXPECT_EQ(changes[i].seq, i + 1);
}

TEST_F(StorageBackendTest, UpsertAndPutJsonOfOneKeyFromTwoThreadsNeverReuseASequence) {
  // The view and put_json are different writers of one store (one actor): both go through
  // DocumentStore::update, so neither loads a state the other is about to extend.
  auto c = coll(*backend_a_, "sensors");
  std::thread viewer([&] {
    for (std::uint8_t i = 0; i < 10; ++i) {
      ASSERT_TRUE(c->upsert("shared", bytes({i}), kT0 + i).ok());
    }
  });
  std::thread jsoner([&] {
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(a_->put_json("sensors:shared", nlohmann::json{{"note", i}}, kT0 + i).ok());
    }
  });
  viewer.join();
  jsoner.join();
  auto d = a_->get("sensors:shared");
  ASSERT_TRUE(d.ok() && d->has_value()) << (d.ok() ? "absent" : d.error().to_string());
  std::set<std::pair<doc::ActorId, std::uint64_t>> seen;
  auto changes = (*d)->changes_info();
  for (const auto& ch : changes) {
    EXPECT_EQ(ch.actor, a_->actor());
    EXPECT_TRUE(seen.emplace(ch.actor, ch.seq).second) << "duplicate seq " << ch.seq;
  }
  // Every write is a change (each one alters "data" or "note"), in sequence.
  ASSERT_EQ(changes.size(), 20u);
  for (std::size_t i = 0; i < changes.size(); ++i) EXPECT_EQ(changes[i].seq, i + 1);
  // Both writers' last values: upsert leaves "note" alone, so put_json's last one is there;
  // "data" is the last upsert's unless a later put_json (whose JSON lacks it) removed it.
  auto j = a_->get_json("sensors:shared");
  ASSERT_TRUE(j.ok() && j->has_value());
  EXPECT_EQ((**j)["note"], 9);
  auto payload = c->get("shared");
  ASSERT_TRUE(payload.ok());
  if (payload->has_value()) {
    EXPECT_EQ(**payload, bytes({9}));
  }
  EXPECT_TRUE(a_->base().check_consistency().ok());
}

TEST_F(StorageBackendTest, LocallyEvictedValuesLeaveTheViewUntilUpsertedAgain) {
  auto c = coll(*backend_a_, "sensors");
  ASSERT_TRUE(c->upsert("s1", bytes({1}), kT0).ok());
  ASSERT_TRUE(c->upsert("s2", bytes({2}), kT0).ok());
  EXPECT_EQ(*c->count(), 2u);
  ASSERT_TRUE(*a_->evict("sensors:s1", kT0 + 1));  // storage pressure, not a delete
  EXPECT_FALSE(c->get("s1")->has_value());
  EXPECT_EQ(*c->count(), 1u);
  EXPECT_EQ(c->remove("s1", kT0 + 2)->outcome, DeleteOutcome::kNotFound);
  ASSERT_TRUE(c->upsert("s1", bytes({3}), kT0 + 3).ok());  // a local write clears the mark
  EXPECT_FALSE(a_->is_evicted("sensors:s1"));
  EXPECT_EQ(**c->get("s1"), bytes({3}));
  EXPECT_EQ(*c->count(), 2u);
}

}  // namespace
}  // namespace peat::store
