#include "peat/store/document_store.hpp"

#include <gtest/gtest.h>

#include "peat/store/json_convert.hpp"
#include "store/test_dir.hpp"

namespace peat::store {
namespace {

using nlohmann::json;

constexpr UnixMillis kT0 = 1'700'000'000'000;

doc::ActorId actor(std::uint8_t b) {
  return doc::ActorId(16, b);
}

class DocumentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen(DocStoreOptions o = {}) {
    store_.reset();
    auto s = DocumentStore::open(dir_.str(), actor(0xAA), std::move(o));
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    store_ = std::move(*s);
  }
  doc::Document fetch(const std::string& key) {
    auto r = store_->get(key);
    EXPECT_TRUE(r.ok() && r->has_value()) << key;
    if (!r.ok() || !r->has_value()) return doc::Document(actor(0));
    return std::move(*r.value());
  }
  json get_json(const std::string& key) {
    auto j = store_->get_json(key);
    EXPECT_TRUE(j.ok());
    return j.ok() && j->has_value() ? **j : json();
  }
  test::TempDir dir_;
  std::unique_ptr<DocumentStore> store_;
};

TEST_F(DocumentStoreTest, PutGetRoundTrip) {
  doc::Document d(actor(1));
  ASSERT_TRUE(d.put(doc::kRoot, "name", std::string("alpha")).ok());
  ASSERT_TRUE(d.put(doc::kRoot, "n", std::int64_t{7}).ok());
  ASSERT_TRUE(store_->put("nodes:a", d, kT0).ok());
  auto back = store_->get("nodes:a");
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ(doc::to_json(**back), doc::to_json(d));
  EXPECT_EQ((*back)->get_heads(), d.get_heads());
  EXPECT_FALSE(store_->get("nodes:none")->has_value());
}

TEST_F(DocumentStoreTest, PutsAppendOnlyNewChangesAndCompact) {
  DocStoreOptions o;
  o.compact_tail_chunks = 10;
  reopen(o);
  doc::Document d(actor(1));
  std::string big(20'000, 'x');
  ASSERT_TRUE(d.put(doc::kRoot, "payload", big).ok());
  ASSERT_TRUE(store_->put("docs:big", d, kT0).ok());
  std::uint64_t base = *store_->stored_size("docs:big");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(d.put(doc::kRoot, "counter", std::int64_t{i}).ok());
    ASSERT_TRUE(store_->put("docs:big", d, kT0 + static_cast<UnixMillis>(i)).ok());
  }
  auto m = *store_->base().meta("docs:big");
  EXPECT_EQ(m->tail_chunks, 5u);
  EXPECT_LT(m->tail_bytes, 1000u);  // five small changes, not five copies of 20 KB
  EXPECT_EQ(m->snapshot_bytes, base);
  for (int i = 5; i < 12; ++i) {
    ASSERT_TRUE(d.put(doc::kRoot, "counter", std::int64_t{i}).ok());
    ASSERT_TRUE(store_->put("docs:big", d, kT0 + static_cast<UnixMillis>(i)).ok());
  }
  m = *store_->base().meta("docs:big");
  EXPECT_LT(m->tail_chunks, 11u);  // compacted once the tail passed 10 chunks
  auto back = fetch("docs:big");
  EXPECT_EQ(doc::to_json(back), doc::to_json(d));
  EXPECT_EQ(back.get_heads(), d.get_heads());
  EXPECT_TRUE(store_->base().check_consistency().ok());
}

TEST_F(DocumentStoreTest, PuttingAStaleCopyMergesInsteadOfLosingChanges) {
  ASSERT_TRUE(store_->put_json("notes:n", json{{"a", 1}}, kT0).ok());
  auto copy1 = fetch("notes:n");
  auto copy2 = fetch("notes:n");
  copy1.set_actor(actor(1));
  copy2.set_actor(actor(2));
  ASSERT_TRUE(copy1.put(doc::kRoot, "b", std::int64_t{2}).ok());
  ASSERT_TRUE(copy2.put(doc::kRoot, "c", std::int64_t{3}).ok());
  ASSERT_TRUE(store_->put("notes:n", copy1, kT0 + 1).ok());
  ASSERT_TRUE(store_->put("notes:n", copy2, kT0 + 2).ok());  // lacks "b"
  EXPECT_EQ(get_json("notes:n"), (json{{"a", 1}, {"b", 2}, {"c", 3}}));
}

TEST_F(DocumentStoreTest, MergeBytesFromAPeer) {
  doc::Document peer(actor(9));
  ASSERT_TRUE(peer.put(doc::kRoot, "x", std::int64_t{1}).ok());
  ASSERT_TRUE(store_->merge_bytes("tracks:t", peer.save(), kT0).ok());
  ASSERT_TRUE(peer.put(doc::kRoot, "y", std::int64_t{2}).ok());
  peer.commit();
  ASSERT_TRUE(store_->merge_bytes("tracks:t", peer.save_incremental(), kT0 + 1).ok());
  EXPECT_EQ(get_json("tracks:t"), (json{{"x", 1}, {"y", 2}}));
  EXPECT_FALSE(store_->merge_bytes("tracks:u", as_bytes("garbage"), kT0).ok());
}

TEST_F(DocumentStoreTest, JsonFollowsTheRustRules) {
  json in = {{"name", "n1"},       {"pos", {{"lat", 35.3}, {"lon", -120.66}}},
             {"tags", {"a", "b"}}, {"big", 18446744073709551615ull},
             {"neg", -5},          {"ok", true},
             {"none", nullptr}};
  ASSERT_TRUE(store_->put_json("nodes:n1", in, kT0).ok());
  json out = get_json("nodes:n1");
  EXPECT_EQ(out["name"], "n1");
  EXPECT_EQ(out["pos"]["lat"], 35.3);
  EXPECT_EQ(out["tags"], (json{"a", "b"}));
  EXPECT_TRUE(out["big"].is_number_float());  // u64 beyond i64 becomes a float
  EXPECT_EQ(out["neg"], -5);
  EXPECT_EQ(out["ok"], true);
  EXPECT_TRUE(out["none"].is_null());
  // Strings are scalars, never Text objects.
  auto d = fetch("nodes:n1");
  auto name = d.get(doc::kRoot, "name");
  ASSERT_TRUE(name.has_value());
  EXPECT_TRUE(std::holds_alternative<doc::ScalarValue>(*name));

  // Keys absent from the new JSON are removed; unchanged keys add no ops.
  auto heads_before = d.get_heads();
  ASSERT_TRUE(store_->put_json("nodes:n1", in, kT0 + 1).ok());
  EXPECT_EQ(fetch("nodes:n1").get_heads(), heads_before);
  ASSERT_TRUE(store_->put_json("nodes:n1", json{{"name", "n2"}}, kT0 + 2).ok());
  EXPECT_EQ(get_json("nodes:n1"), (json{{"name", "n2"}}));
  EXPECT_EQ(store_->put_json("nodes:n1", json::array(), kT0).error().code, "INVALID_JSON");
}

TEST(JsonConvert, UnrepresentableValuesBecomeNull) {
  doc::Document d(actor(1));
  ASSERT_TRUE(d.put(doc::kRoot, "bytes", Bytes{1, 2}).ok());
  ASSERT_TRUE(d.put(doc::kRoot, "count", doc::Counter{3}).ok());
  ASSERT_TRUE(d.put(doc::kRoot, "when", doc::Timestamp{1234}).ok());
  ASSERT_TRUE(d.put(doc::kRoot, "nan", std::nan("")).ok());
  auto text = d.put_object(doc::kRoot, "text", doc::ObjType::kText);
  ASSERT_TRUE(text.ok());
  ASSERT_TRUE(d.splice_text(*text, 0, 0, "hi").ok());
  json j = document_to_json(d);
  EXPECT_TRUE(j["bytes"].is_null());
  EXPECT_TRUE(j["count"].is_null());
  EXPECT_TRUE(j["text"].is_null());
  EXPECT_TRUE(j["nan"].is_null());
  EXPECT_EQ(j["when"], 1234);
}

TEST_F(DocumentStoreTest, DeletedDocumentCannotBeResurrectedByAnOlderSnapshot) {
  ASSERT_TRUE(store_->put_json("tracks:t1", json{{"speed", 10}}, kT0).ok());
  doc::Document old = fetch("tracks:t1");
  Bytes old_snapshot = old.save();
  auto del = store_->remove("tracks:t1", kT0 + 5, "node-a", "lost contact");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->outcome, DeleteOutcome::kTombstoned);
  EXPECT_FALSE(store_->get("tracks:t1")->has_value());

  EXPECT_EQ(store_->put("tracks:t1", old, kT0 + 6).error().code, "TOMBSTONED");
  EXPECT_EQ(store_->merge_bytes("tracks:t1", old_snapshot, kT0 + 6).error().code, "TOMBSTONED");
  reopen();
  EXPECT_EQ(store_->merge_bytes("tracks:t1", old_snapshot, kT0 + 7).error().code, "TOMBSTONED");
  EXPECT_FALSE(store_->get("tracks:t1")->has_value());
}

TEST_F(DocumentStoreTest, UpdateWinsCollectionRevivesOnlyWithNewerEdits) {
  ASSERT_TRUE(store_->put_json("alerts:a", json{{"level", 1}}, kT0).ok());
  doc::Document copy = fetch("alerts:a");
  Bytes old_snapshot = copy.save();
  ASSERT_TRUE(store_->remove("alerts:a", kT0 + 1, "me").ok());
  EXPECT_EQ(store_->merge_bytes("alerts:a", old_snapshot, kT0 + 2).error().code, "TOMBSTONED");
  copy.set_actor(actor(5));
  ASSERT_TRUE(copy.put(doc::kRoot, "level", std::int64_t{3}).ok());  // edited after the delete
  ASSERT_TRUE(store_->put("alerts:a", copy, kT0 + 3).ok());
  EXPECT_EQ(get_json("alerts:a"), (json{{"level", 3}}));
}

TEST_F(DocumentStoreTest, SoftDeleteMarksTheDocument) {
  ASSERT_TRUE(store_->put_json("notes:n", json{{"t", "x"}}, kT0).ok());
  auto r = store_->remove("notes:n", kT0 + 1, "me");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, DeleteOutcome::kSoftDeleted);
  EXPECT_EQ(get_json("notes:n")["_deleted"], true);
  EXPECT_TRUE(store_->base().list("notes")->empty());
  // Still offered for reconciliation, so peers receive the `_deleted` edit.
  EXPECT_EQ(store_->base().sync_items("notes:")->size(), 1u);
}

TEST_F(DocumentStoreTest, UpdateEditsTheStoredDocumentOrANewOne) {
  auto set_n = [](std::int64_t n) {
    return [n](doc::Document& d) { return d.put(doc::kRoot, "n", n); };
  };
  ASSERT_TRUE(store_->update("notes:u", set_n(1), kT0).ok());
  EXPECT_EQ(get_json("notes:u"), (json{{"n", 1}}));
  ASSERT_TRUE(store_->update("notes:u", set_n(2), kT0 + 1).ok());
  EXPECT_EQ(get_json("notes:u"), (json{{"n", 2}}));
  EXPECT_EQ(fetch("notes:u").changes_info().size(), 2u);
  // An error from the edit is returned and nothing is written.
  Status refused = store_->update(
      "notes:u",
      [](doc::Document& d) -> Status {
        (void)d.put(doc::kRoot, "n", std::int64_t{3});
        return make_error("NOPE", "edit refused");
      },
      kT0 + 2);
  EXPECT_EQ(refused.error().code, "NOPE");
  EXPECT_EQ(get_json("notes:u"), (json{{"n", 2}}));
  EXPECT_EQ(store_->update("bad-key", set_n(1), kT0).error().code, "INVALID_KEY");
  // The peer path of an evicted key is refused, a local update clears the mark.
  ASSERT_TRUE(*store_->evict("notes:u", kT0 + 3));
  PutOptions peer;
  peer.from_peer = true;
  EXPECT_EQ(store_->update("notes:u", set_n(4), kT0 + 4, peer).error().code, "EVICTED");
  ASSERT_TRUE(store_->update("notes:u", set_n(5), kT0 + 5).ok());
  EXPECT_FALSE(store_->is_evicted("notes:u"));
}

TEST_F(DocumentStoreTest, ALaterWriteWithoutTheDeletedMarkRevivesASoftDeletedDocument) {
  ASSERT_TRUE(store_->put_json("notes:n", json{{"t", "x"}}, kT0).ok());
  ASSERT_TRUE(store_->put_json("notes:m", json{{"t", "y"}}, kT0).ok());
  ASSERT_EQ(store_->remove("notes:n", kT0 + 1, "me")->outcome, DeleteOutcome::kSoftDeleted);
  EXPECT_EQ(*store_->list("notes"), std::vector<std::string>{"notes:m"});
  EXPECT_EQ(*store_->query_count(Query("notes")), 1u);
  // put_json replaces the root keys: no `_deleted` in the JSON removes the mark.
  ASSERT_TRUE(store_->put_json("notes:n", json{{"t", "x2"}}, kT0 + 2).ok());
  EXPECT_FALSE(get_json("notes:n").contains("_deleted"));
  EXPECT_FALSE((*store_->base().meta("notes:n"))->soft_deleted);
  EXPECT_EQ(*store_->list("notes"), (std::vector<std::string>{"notes:m", "notes:n"}));
  EXPECT_EQ(*store_->query_count(Query("notes")), 2u);
  // Deleting again works as the first time (flag, mark and event).
  std::vector<ChangeKind> kinds;
  Subscription sub =
      store_->subscribe("notes:n", [&](const ChangeEvent& e) { kinds.push_back(e.kind); });
  ASSERT_EQ(store_->remove("notes:n", kT0 + 3, "me")->outcome, DeleteOutcome::kSoftDeleted);
  EXPECT_EQ(kinds, (std::vector<ChangeKind>{ChangeKind::kPut, ChangeKind::kSoftDeleted}));
  EXPECT_EQ(*store_->list("notes"), std::vector<std::string>{"notes:m"});
  EXPECT_TRUE(store_->base().check_consistency().ok());
}

TEST_F(DocumentStoreTest, ThePeersDeletedMarkDecidesVisibilityAfterAMerge) {
  // Peer B holds a copy; A deletes it, B revives it later, A merges B's state.
  test::TempDir peer_dir;
  auto peer = DocumentStore::open(peer_dir.str(), actor(0xBB));
  ASSERT_TRUE(peer.ok());
  DocumentStore& b = **peer;
  auto copy = [](DocumentStore& from, DocumentStore& to, const std::string& key, UnixMillis t) {
    auto saved = from.base().read(key);
    ASSERT_TRUE(saved.ok() && saved->has_value());
    ASSERT_TRUE(to.merge_bytes(key, **saved, t).ok());
  };
  ASSERT_TRUE(store_->put_json("notes:n", json{{"t", "x"}}, kT0).ok());
  copy(*store_, b, "notes:n", kT0 + 1);
  ASSERT_EQ(store_->remove("notes:n", kT0 + 2, "a")->outcome, DeleteOutcome::kSoftDeleted);
  // The delete reaches B as an edit: hidden there too.
  copy(*store_, b, "notes:n", kT0 + 3);
  EXPECT_TRUE((*b.base().meta("notes:n"))->soft_deleted);
  EXPECT_TRUE(b.list("notes")->empty());
  EXPECT_EQ(*b.query_count(Query("notes")), 0u);
  // B writes the document again (its JSON has no `_deleted`), A merges it: listed again.
  ASSERT_TRUE(b.put_json("notes:n", json{{"t", "back"}}, kT0 + 4).ok());
  EXPECT_EQ(*b.list("notes"), std::vector<std::string>{"notes:n"});
  copy(b, *store_, "notes:n", kT0 + 5);
  EXPECT_EQ(get_json("notes:n"), (json{{"t", "back"}}));
  EXPECT_FALSE((*store_->base().meta("notes:n"))->soft_deleted);
  EXPECT_EQ(*store_->list("notes"), std::vector<std::string>{"notes:n"});
  auto rows = store_->query_json(Query("notes"));
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].second, (json{{"t", "back"}}));
  EXPECT_TRUE(store_->base().check_consistency().ok());
}

TEST_F(DocumentStoreTest, EvictManyRemovesAndMarksInOneTransaction) {
  for (const char* k : {"bulk:a", "bulk:b", "bulk:c", "bulk:keep"}) {
    ASSERT_TRUE(store_->put_json(k, json{{"k", k}}, kT0).ok());
  }
  // When the first kDeleted event runs (after the commit) every key is gone and marked.
  std::vector<std::string> deleted;
  std::size_t stored_at_first = 0;
  bool marked_at_first = false;
  Subscription sub = store_->subscribe("bulk:", [&](const ChangeEvent& e) {
    if (e.kind != ChangeKind::kDeleted) return;
    if (deleted.empty()) {
      stored_at_first = store_->list("bulk")->size();
      marked_at_first = store_->is_evicted("bulk:a") && store_->is_evicted("bulk:b") &&
                        store_->is_evicted("bulk:c");
    }
    deleted.push_back(e.key);
  });
  auto n = store_->evict_many({"bulk:a", "bulk:b", "bulk:absent", "bulk:c", "bulk:a"}, kT0 + 1);
  ASSERT_TRUE(n.ok()) << n.error().to_string();
  EXPECT_EQ(*n, 3u);  // absent and repeated keys are not counted
  EXPECT_EQ(deleted, (std::vector<std::string>{"bulk:a", "bulk:b", "bulk:c"}));
  EXPECT_EQ(stored_at_first, 1u);
  EXPECT_TRUE(marked_at_first);
  EXPECT_EQ(store_->evicted_keys(), (std::vector<std::string>{"bulk:a", "bulk:b", "bulk:c"}));
  EXPECT_FALSE(store_->is_evicted("bulk:absent"));
  EXPECT_TRUE(store_->base().contains("bulk:keep"));
  EXPECT_TRUE(store_->base().tombstones()->empty());  // local, not a delete
  // An invalid key fails the call before anything is written.
  EXPECT_EQ(store_->evict_many({"bulk:keep", "nocolon"}, kT0 + 2).error().code, "INVALID_KEY");
  EXPECT_TRUE(store_->base().contains("bulk:keep"));
  EXPECT_FALSE(store_->is_evicted("bulk:keep"));
  EXPECT_EQ(*store_->evict_many({}, kT0 + 3), 0u);
  // Marks are durable and refuse peer copies as with evict.
  reopen();
  EXPECT_EQ(store_->evicted_keys(), (std::vector<std::string>{"bulk:a", "bulk:b", "bulk:c"}));
  PutOptions peer;
  peer.from_peer = true;
  EXPECT_EQ(store_->put_json("bulk:b", json{{"k", 1}}, kT0 + 4, peer).error().code, "EVICTED");
  EXPECT_TRUE(store_->base().check_consistency().ok());
}

class QueryTest : public DocumentStoreTest {
 protected:
  void SetUp() override {
    DocumentStoreTest::SetUp();
    put("a", {{"kind", "tank"}, {"speed", 30}, {"pos", {{"lat", 35.0}}}, {"tags", {"red", "x"}}});
    put("b", {{"kind", "truck"}, {"speed", 60.5}, {"pos", {{"lat", 36.0}}}, {"tags", {"blue"}}});
    put("c", {{"kind", "tank"}, {"speed", 45}, {"tags", {"red"}}});
    put("d", {{"kind", "drone"}});
    ASSERT_TRUE(store_->put_json("other:z", json{{"kind", "tank"}}, kT0).ok());
  }
  void put(const std::string& id, json j) {
    ASSERT_TRUE(store_->put_json("units:" + id, j, kT0).ok());
  }
  std::vector<std::string> ids(const Query& q) {
    auto rows = store_->query_json(q);
    EXPECT_TRUE(rows.ok());
    std::vector<std::string> out;
    for (auto& [id, _] : *rows) out.push_back(id);
    return out;
  }
  using V = std::vector<std::string>;
};

TEST_F(QueryTest, Operators) {
  EXPECT_EQ(ids(Query("units").where_eq("kind", std::string("tank"))), (V{"a", "c"}));
  EXPECT_EQ(ids(Query("units").where_gt("speed", std::int64_t{40})), (V{"b", "c"}));
  EXPECT_EQ(ids(Query("units").where_lte("speed", 45.0)), (V{"a", "c"}));
  EXPECT_EQ(ids(Query("units").where_lt("pos.lat", 35.5)), (V{"a"}));
  EXPECT_EQ(ids(Query("units").where_gte("pos.lat", 35.0)), (V{"a", "b"}));
  EXPECT_EQ(ids(Query("units").where_contains("tags", std::string("red"))), (V{"a", "c"}));
  EXPECT_EQ(ids(Query("units").where_eq("kind", std::string("tank")).where_gt("speed", 40.0)),
            (V{"c"}));
  EXPECT_EQ(ids(Query("units").filter_by_ids({"d", "a"})), (V{"a", "d"}));
  EXPECT_EQ(*store_->query_count(Query("units")), 4u);
  EXPECT_EQ(store_->list("units")->size(), 4u);
  EXPECT_EQ(store_->scan_prefix("units:")->size(), 4u);
  EXPECT_EQ(*store_->count(), 5u);
  EXPECT_EQ(*store_->list_collections(), (std::vector<std::string>{"other", "units"}));
}

TEST_F(QueryTest, EqualityIsStrictPerKindButOrderingIsNumeric) {
  EXPECT_TRUE(ids(Query("units").where_eq("speed", 30.0)).empty());  // Int 30 != Float 30.0
  EXPECT_TRUE(ids(Query("units").where_eq("speed", std::uint64_t{30})).empty());
  EXPECT_EQ(ids(Query("units").where_eq("speed", std::int64_t{30})), (V{"a"}));
  EXPECT_EQ(ids(Query("units").where_gte("speed", std::uint64_t{30})).size(), 3u);
  EXPECT_TRUE(ids(Query("units").where_gt("kind", std::int64_t{1})).empty());     // incomparable
  EXPECT_TRUE(ids(Query("units").where_eq("tags", std::string("red"))).empty());  // a list
}

TEST_F(QueryTest, OrderOffsetLimit) {
  EXPECT_EQ(ids(Query("units").order_by("speed")), (V{"a", "c", "b", "d"}));  // missing last
  EXPECT_EQ(ids(Query("units").order_by("speed", SortOrder::kDesc)), (V{"d", "b", "c", "a"}));
  EXPECT_EQ(ids(Query("units").order_by("speed").offset(1).limit(2)), (V{"c", "b"}));
  EXPECT_EQ(ids(Query("units").order_by("kind")), (V{"d", "a", "c", "b"}));  // stable ties
  EXPECT_TRUE(ids(Query("units").offset(10)).empty());
}

TEST_F(DocumentStoreTest, SyncItemsMatchAcrossStoresForTheSameState) {
  test::TempDir other_dir;
  auto other = DocumentStore::open(other_dir.str(), actor(0xBB));
  ASSERT_TRUE(other.ok());
  doc::Document d(actor(1));
  ASSERT_TRUE(d.put(doc::kRoot, "v", std::int64_t{1}).ok());
  ASSERT_TRUE(store_->put("nodes:x", d, kT0).ok());
  ASSERT_TRUE((*other)->merge_bytes("nodes:x", d.save(), kT0 + 999).ok());
  auto a = *store_->base().sync_items("nodes:");
  auto b = *(*other)->base().sync_items("nodes:");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].id, b[0].id);
  EXPECT_EQ(a[0].timestamp, b[0].timestamp);
  ASSERT_TRUE(d.put(doc::kRoot, "v", std::int64_t{2}).ok());
  ASSERT_TRUE(store_->put("nodes:x", d, kT0 + 1).ok());
  EXPECT_NE(store_->base().sync_items("nodes:")->at(0).id, b[0].id);
}

TEST_F(DocumentStoreTest, PutManyStoresInOneTransactionAndReportsTombstones) {
  ASSERT_TRUE(store_->put_json("tracks:dead", json{{"v", 1}}, kT0).ok());
  doc::Document dead = fetch("tracks:dead");
  ASSERT_TRUE(store_->remove("tracks:dead", kT0, "me").ok());
  std::vector<doc::Document> fresh;
  for (int i = 0; i < 3; ++i) {
    fresh.emplace_back(actor(static_cast<std::uint8_t>(10 + i)));
    ASSERT_TRUE(fresh.back().put(doc::kRoot, "i", std::int64_t{i}).ok());
  }
  std::vector<std::pair<std::string, doc::Document*>> batch = {{"tracks:a", &fresh[0]},
                                                               {"tracks:dead", &dead},
                                                               {"tracks:b", &fresh[1]},
                                                               {"tracks:c", &fresh[2]}};
  auto results = store_->put_many(batch, kT0 + 1);
  ASSERT_TRUE(results.ok());
  ASSERT_EQ(results->size(), 4u);
  EXPECT_TRUE((*results)[0].ok());
  EXPECT_EQ((*results)[1].error().code, "TOMBSTONED");
  EXPECT_TRUE((*results)[2].ok());
  EXPECT_EQ(*store_->base().list("tracks"),
            (std::vector<std::string>{"tracks:a", "tracks:b", "tracks:c"}));
  EXPECT_EQ(get_json("tracks:c"), (json{{"i", 2}}));
}

TEST_F(DocumentStoreTest, SubscribersSeePutsWithKeys) {
  std::vector<std::string> keys;
  auto sub = store_->subscribe("beacons:", [&](const ChangeEvent& e) { keys.push_back(e.key); });
  ASSERT_TRUE(
      store_->put_json("beacons:b1", json{{"lat", 1.0}}, kT0, {"9q60y", std::nullopt}).ok());
  EXPECT_EQ(keys, std::vector<std::string>{"beacons:b1"});
  std::vector<bool> from_peer;
  auto sub2 = store_->base().subscribe(
      "tracks:", [&](const ChangeEvent& e) { from_peer.push_back(e.from_peer); });
  ASSERT_TRUE(store_->put_json("tracks:local", json{{"v", 1}}, kT0).ok());
  doc::Document remote(actor(7));
  ASSERT_TRUE(remote.put(doc::kRoot, "v", std::int64_t{2}).ok());
  ASSERT_TRUE(store_->merge_bytes("tracks:remote", remote.save(), kT0).ok());
  EXPECT_EQ(from_peer, (std::vector<bool>{false, true}));
  EXPECT_EQ(*store_->base().find_in_cell("9q60y"), std::vector<std::string>{"beacons:b1"});
}

}  // namespace
}  // namespace peat::store
