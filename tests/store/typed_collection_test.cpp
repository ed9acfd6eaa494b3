#include "peat/store/typed_collection.hpp"

#include <gtest/gtest.h>

#include "store/two_stores.hpp"

namespace peat::store {

// A track as a tactical application would keep it.
struct Track {
  std::string id;
  double lat = 0;
  double lon = 0;
  std::string callsign;
  std::uint64_t updated_at = 0;
  bool operator==(const Track&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Track, id, lat, lon, callsign, updated_at)

namespace {

using nlohmann::json;

using test_support::kT0;

Track track(const std::string& id, double lat, std::uint64_t at) {
  return Track{id, lat, -120.66, "VIPER-" + id, at};
}

class TypedCollectionTest : public test_support::TwoStoresTest {
 protected:
  void sync_a_to_b(const std::string& key) { send(*a_, *b_, key); }
};

TEST_F(TypedCollectionTest, PutGetRoundTripAtCollectionKey) {
  TypedCollection<Track> tracks(*a_, "tracks");
  Track t = track("t1", 35.3003, 42);
  ASSERT_TRUE(tracks.put("t1", t, kT0).ok());
  auto back = tracks.get("t1");
  ASSERT_TRUE(back.ok() && back->has_value()) << back.error().to_string();
  EXPECT_EQ(**back, t);
  // Stored as an ordinary JSON document at "tracks:t1".
  auto raw = a_->get_json("tracks:t1");
  ASSERT_TRUE(raw.ok() && raw->has_value());
  EXPECT_EQ((**raw)["callsign"], "VIPER-t1");
  EXPECT_EQ(*tracks.get_json("t1"), *raw);
  EXPECT_FALSE(tracks.get("none")->has_value());
  // An update edits the stored document.
  t.lat = 36.0;
  t.updated_at = 43;
  ASSERT_TRUE(tracks.put("t1", t, kT0 + 1).ok());
  EXPECT_EQ(**tracks.get("t1"), t);
  EXPECT_EQ(*tracks.count(), 1u);
}

TEST_F(TypedCollectionTest, ScanSkipsAndCountsDocumentsThatDoNotDeserialize) {
  TypedCollection<Track> tracks(*a_, "tracks");
  for (int i = 0; i < 3; ++i) {
    std::string id = "t" + std::to_string(i);
    ASSERT_TRUE(tracks.put(id, track(id, 30.0 + i, 100 + i), kT0).ok());
  }
  // Written by something else: a missing field and a wrongly typed field.
  ASSERT_TRUE(a_->put_json("tracks:bad1", {{"id", "bad1"}}, kT0).ok());
  ASSERT_TRUE(
      a_->put_json(
            "tracks:bad2",
            {{"id", "bad2"}, {"lat", "north"}, {"lon", 1.0}, {"callsign", "X"}, {"updated_at", 1}},
            kT0)
          .ok());
  ASSERT_TRUE(a_->put_json("other:t9", json(track("t9", 1, 1)), kT0).ok());

  auto rows = tracks.scan();
  ASSERT_TRUE(rows.ok()) << rows.error().to_string();
  ASSERT_EQ(rows->items.size(), 3u);
  EXPECT_EQ(rows->skipped, 2u);
  EXPECT_EQ(rows->items[0].first, "t0");
  EXPECT_EQ(rows->items[2].second, track("t2", 32.0, 102));
  EXPECT_EQ(tracks.scan_json()->size(), 5u);  // JSON view has every live document
  EXPECT_EQ(*tracks.count(), 5u);
  auto bad = tracks.get("bad2");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "DESERIALIZE_FAILED");
}

TEST_F(TypedCollectionTest, QueryIsScopedToTheCollection) {
  TypedCollection<Track> tracks(*a_, "tracks");
  TypedCollection<Track> other(*a_, "other");
  for (int i = 0; i < 5; ++i) {
    std::string id = "t" + std::to_string(i);
    ASSERT_TRUE(tracks.put(id, track(id, 33.0 + i, 100 - i), kT0).ok());
    ASSERT_TRUE(other.put(id, track(id, 50.0 + i, 100), kT0).ok());
  }
  auto rows = tracks.find(
      tracks.query().where_gt("lat", 34.5).order_by("updated_at", SortOrder::kAsc).limit(2));
  ASSERT_TRUE(rows.ok()) << rows.error().to_string();
  ASSERT_EQ(rows->items.size(), 2u);
  EXPECT_EQ(rows->items[0].first, "t4");  // lowest updated_at among lat > 34.5
  EXPECT_EQ(rows->items[1].first, "t3");
  auto eq = tracks.find(tracks.query().where_eq("callsign", std::string("VIPER-t2")));
  ASSERT_EQ(eq->items.size(), 1u);
  EXPECT_EQ(eq->items[0].second.lat, 35.0);
  auto wrong = tracks.find(other.query());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, "INVALID_ARGUMENT");
}

TEST_F(TypedCollectionTest, RemoveFollowsTheCollectionPolicy) {
  // tracks: Tombstone, delete wins — a later write of the same id is refused.
  TypedCollection<Track> tracks(*a_, "tracks");
  ASSERT_TRUE(tracks.put("t1", track("t1", 1, 1), kT0).ok());
  auto r = tracks.remove("t1", kT0 + 1, "node-a");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, DeleteOutcome::kTombstoned);
  EXPECT_FALSE(tracks.get("t1")->has_value());
  Status again = tracks.put("t1", track("t1", 2, 2), kT0 + 2);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "TOMBSTONED");

  // contact_reports: SoftDelete — hidden (the `_deleted` mark), then revived by a put.
  TypedCollection<Track> contacts(*a_, "contact_reports");
  ASSERT_TRUE(contacts.put("c1", track("c1", 1, 1), kT0).ok());
  ASSERT_TRUE(contacts.put("c2", track("c2", 1, 1), kT0).ok());
  EXPECT_EQ(contacts.remove("c1", kT0 + 1, "node-a")->outcome, DeleteOutcome::kSoftDeleted);
  EXPECT_FALSE(contacts.get("c1")->has_value());
  EXPECT_FALSE(contacts.get_json("c1")->has_value());
  EXPECT_EQ(*contacts.count(), 1u);
  EXPECT_EQ(contacts.scan()->items.size(), 1u);
  EXPECT_EQ(contacts.remove("absent", kT0, "node-a")->outcome, DeleteOutcome::kNotFound);
  ASSERT_TRUE(contacts.put("c1", track("c1", 9, 9), kT0 + 2).ok());
  EXPECT_EQ((*contacts.get("c1"))->lat, 9.0);
  EXPECT_EQ(*contacts.count(), 2u);
}

TEST_F(TypedCollectionTest, TtlOfTheCollectionSetsTheExpiry) {
  TypedCollection<Track> shortlived(*a_, "scratch", {.ttl = std::chrono::seconds(60)});
  ASSERT_TRUE(shortlived.put("s1", track("s1", 1, 1), kT0).ok());
  EXPECT_EQ((*a_->base().meta("scratch:s1"))->expires_at, kT0 + 60'000);
  // A later put moves the expiry.
  ASSERT_TRUE(shortlived.put("s1", track("s1", 2, 2), kT0 + 30'000).ok());
  EXPECT_TRUE(a_->base().expire(kT0 + 60'000)->empty());
  EXPECT_EQ(a_->base().expire(kT0 + 90'000)->size(), 1u);
  EXPECT_FALSE(shortlived.get("s1")->has_value());
  // Without an option the store's per-collection TTL applies (node_positions: 600 s).
  TypedCollection<Track> positions(*a_, "node_positions");
  ASSERT_TRUE(positions.put("p1", track("p1", 1, 1), kT0).ok());
  EXPECT_EQ((*a_->base().meta("node_positions:p1"))->expires_at, kT0 + 600'000);
}

TEST_F(TypedCollectionTest, SubscribeGivesIdsOfLocalAndPeerChanges) {
  TypedCollection<Track> a_tracks(*a_, "contact_reports");
  TypedCollection<Track> b_tracks(*b_, "contact_reports");
  std::vector<std::tuple<std::string, ChangeKind, bool>> seen;
  Subscription sub = b_tracks.subscribe([&](const std::string& id, const ChangeEvent& e) {
    seen.emplace_back(id, e.kind, e.from_peer);
  });
  ASSERT_TRUE(b_tracks.put("mine", track("mine", 1, 1), kT0).ok());
  ASSERT_TRUE(b_->put_json("tracks:x", json(track("x", 1, 1)), kT0).ok());  // other collection
  ASSERT_TRUE(a_tracks.put("theirs:1", track("theirs:1", 2, 2), kT0).ok());
  sync_a_to_b("contact_reports:theirs:1");
  ASSERT_TRUE(b_tracks.remove("mine", kT0 + 1, "node-b").ok());
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0], std::make_tuple(std::string("mine"), ChangeKind::kPut, false));
  EXPECT_EQ(seen[1], std::make_tuple(std::string("theirs:1"), ChangeKind::kPut, true));
  EXPECT_EQ(std::get<0>(seen[2]), "mine");  // the `_deleted` edit, then the soft delete
  EXPECT_EQ(seen[3], std::make_tuple(std::string("mine"), ChangeKind::kSoftDeleted, false));
  EXPECT_EQ(**b_tracks.get("theirs:1"), track("theirs:1", 2, 2));
  sub.cancel();
  ASSERT_TRUE(b_tracks.put("later", track("later", 1, 1), kT0).ok());
  EXPECT_EQ(seen.size(), 4u);
}

TEST_F(TypedCollectionTest, PeersSoftDeleteHidesTheDocumentAfterMerge) {
  TypedCollection<Track> a_c(*a_, "contact_reports");
  TypedCollection<Track> b_c(*b_, "contact_reports");
  ASSERT_TRUE(a_c.put("c1", track("c1", 1, 1), kT0).ok());
  sync_a_to_b("contact_reports:c1");
  EXPECT_EQ(*b_c.count(), 1u);
  ASSERT_TRUE(a_c.remove("c1", kT0 + 1, "node-a").ok());
  sync_a_to_b("contact_reports:c1");
  EXPECT_FALSE(b_c.get("c1")->has_value());
  EXPECT_EQ(*b_c.count(), 0u);
  EXPECT_TRUE(b_c.scan()->items.empty());
}

TEST_F(TypedCollectionTest, CollectionNameWithColonIsRejected) {
  TypedCollection<Track> bad(*a_, "a:b");
  EXPECT_EQ(bad.put("x", track("x", 1, 1), kT0).error().code, "INVALID_ARGUMENT");
  EXPECT_EQ(bad.get("x").error().code, "INVALID_ARGUMENT");
  EXPECT_EQ(bad.scan().error().code, "INVALID_ARGUMENT");
}

}  // namespace
}  // namespace peat::store
