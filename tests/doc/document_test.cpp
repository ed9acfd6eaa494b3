// Document semantics: conflicts, RGA order, counters, deletes, text, history, queueing and
// all-or-nothing application.
#include <gtest/gtest.h>

#include "doc/change.hpp"
#include "doc/chunk.hpp"
#include "peat/doc/document.hpp"

namespace peat::doc {
namespace {

ActorId actor(const char* h) {
  return from_hex(h).value();
}

std::int64_t as_int(const std::optional<Value>& v) {
  return std::get<std::int64_t>(std::get<ScalarValue>(*v));
}
std::string as_str(const std::optional<Value>& v) {
  return std::get<std::string>(std::get<ScalarValue>(*v));
}

// Two replicas forked from a common base, edited concurrently, then merged both ways.
struct Pair {
  Document a{actor("aaaa")};
  Document b{actor("bbbb")};
  void sync() {
    ASSERT_TRUE(a.merge(b).ok());
    ASSERT_TRUE(b.merge(a).ok());
  }
};

TEST(Semantics, ConflictWinnerIsGreatestOpId) {
  Pair p;
  ASSERT_TRUE(p.a.put(kRoot, "k", std::int64_t{1}).ok());
  ASSERT_TRUE(p.b.put(kRoot, "k", std::int64_t{2}).ok());
  p.sync();
  EXPECT_EQ(as_int(p.a.get(kRoot, "k")), 2);  // 1@bbbb > 1@aaaa
  EXPECT_EQ(as_int(p.b.get(kRoot, "k")), 2);
  auto all = p.a.get_all(kRoot, "k");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].second.to_string(), "1@aaaa");
  EXPECT_EQ(all[1].second.to_string(), "1@bbbb");
  // A later put sees both and overwrites them.
  ASSERT_TRUE(p.a.put(kRoot, "k", std::int64_t{3}).ok());
  p.sync();
  EXPECT_EQ(p.b.get_all(kRoot, "k").size(), 1u);
  EXPECT_EQ(p.a.get_heads(), p.b.get_heads());
}

TEST(Semantics, RgaConcurrentInsertsHigherOpIdFirst) {
  Document base(actor("aaaa"));
  auto l = base.put_object(kRoot, "l", ObjType::kList);
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE(base.insert(*l, 0, std::string("x")).ok());
  base.commit();
  Document a = base.fork(actor("aaaa"));
  Document b = base.fork(actor("bbbb"));
  ASSERT_TRUE(a.insert(*l, 1, std::string("a1")).ok());
  ASSERT_TRUE(a.insert(*l, 2, std::string("a2")).ok());  // a's run stays together
  ASSERT_TRUE(b.insert(*l, 1, std::string("b1")).ok());
  ASSERT_TRUE(a.merge(b).ok());
  ASSERT_TRUE(b.merge(a).ok());
  std::vector<std::string> want = {"x", "b1", "a1", "a2"};
  for (auto* d : {&a, &b}) {
    auto vals = d->list_values(*l);
    ASSERT_EQ(vals.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(std::get<std::string>(std::get<ScalarValue>(vals[i])), want[i]);
    }
  }
  EXPECT_EQ(to_json(a), to_json(b));
}

TEST(Semantics, ConcurrentCounterIncrementsAdd) {
  Document base(actor("aaaa"));
  ASSERT_TRUE(base.put(kRoot, "c", Counter{10}).ok());
  base.commit();
  Document b = base.fork(actor("bbbb"));
  ASSERT_TRUE(base.increment(kRoot, "c", 5).ok());
  ASSERT_TRUE(b.increment(kRoot, "c", -3).ok());
  ASSERT_TRUE(b.increment(kRoot, "c", 1).ok());
  ASSERT_TRUE(base.merge(b).ok());
  auto v = base.get(kRoot, "c");
  ASSERT_TRUE(v);
  EXPECT_EQ(std::get<Counter>(std::get<ScalarValue>(*v)).value, 13);
  EXPECT_EQ(to_json(base), "{\"c\":13}");
  // Increment of a non-counter is refused.
  ASSERT_TRUE(base.put(kRoot, "n", std::int64_t{1}).ok());
  EXPECT_FALSE(base.increment(kRoot, "n", 1).ok());
  // Survives save/load.
  auto loaded = Document::load(base.save(), actor("cc"));
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(to_json(*loaded), to_json(base));
}

TEST(Semantics, ConcurrentSetSurvivesDelete) {
  Document base(actor("aaaa"));
  ASSERT_TRUE(base.put(kRoot, "k", std::int64_t{1}).ok());
  auto l = base.put_object(kRoot, "l", ObjType::kList);
  ASSERT_TRUE(base.insert(*l, 0, std::int64_t{7}).ok());
  base.commit();
  Document b = base.fork(actor("bbbb"));
  ASSERT_TRUE(base.remove(kRoot, "k").ok());
  ASSERT_TRUE(base.remove(*l, std::size_t{0}).ok());
  ASSERT_TRUE(b.put(kRoot, "k", std::int64_t{2}).ok());
  ASSERT_TRUE(b.put(*l, std::size_t{0}, std::int64_t{8}).ok());
  ASSERT_TRUE(base.merge(b).ok());
  EXPECT_EQ(as_int(base.get(kRoot, "k")), 2);
  EXPECT_EQ(base.length(*l), 1u);
  EXPECT_EQ(as_int(base.get(*l, std::size_t{0})), 8);
  // A delete that saw the value removes it.
  ASSERT_TRUE(base.remove(kRoot, "k").ok());
  EXPECT_FALSE(base.get(kRoot, "k"));
  EXPECT_TRUE(base.keys(kRoot) == std::vector<std::string>{"l"});
  auto loaded = Document::load(base.save(), actor("cc"));
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(to_json(*loaded), to_json(base));
}

TEST(Semantics, TextSpliceCountsUtf16Units) {
  Document d(actor("aaaa"));
  auto t = d.put_object(kRoot, "t", ObjType::kText);
  ASSERT_TRUE(t.ok());
  // "a😀b": the emoji is two UTF-16 units.
  ASSERT_TRUE(d.splice_text(*t, 0, 0,
                            "a\xF0\x9F\x98\x80"
                            "b")
                  .ok());
  EXPECT_EQ(d.length(*t), 4u);
  ASSERT_TRUE(d.splice_text(*t, 3, 0, "\xF0\x9D\x84\x9E").ok());  // after the emoji
  EXPECT_EQ(d.text(*t),
            "a\xF0\x9F\x98\x80\xF0\x9D\x84\x9E"
            "b");
  ASSERT_TRUE(d.splice_text(*t, 1, 2, "").ok());  // delete the emoji
  EXPECT_EQ(d.text(*t),
            "a\xF0\x9D\x84\x9E"
            "b");
  EXPECT_FALSE(d.splice_text(*t, 2, 0, "x").ok());     // inside a surrogate pair
  EXPECT_FALSE(d.splice_text(*t, 9, 0, "x").ok());     // past the end
  EXPECT_FALSE(d.splice_text(*t, 0, 0, "\xff").ok());  // invalid UTF-8
  EXPECT_EQ(d.length(*t), 4u);
}

TEST(History, LoadOfDocumentFollowedByIncrementalChunks) {
  Document d(actor("aaaa"));
  ASSERT_TRUE(d.put(kRoot, "a", std::int64_t{1}).ok());
  Bytes file = d.save();
  EXPECT_TRUE(d.save_incremental().empty());
  ASSERT_TRUE(d.put(kRoot, "b", std::int64_t{2}).ok());
  d.commit();
  ASSERT_TRUE(d.put(kRoot, "c", std::int64_t{3}).ok());
  d.commit();
  Bytes inc = d.save_incremental();
  EXPECT_FALSE(inc.empty());
  EXPECT_TRUE(d.save_incremental().empty());
  file.insert(file.end(), inc.begin(), inc.end());
  auto loaded = Document::load(file, actor("bbbb"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ(to_json(*loaded), "{\"a\":1,\"b\":2,\"c\":3}");
  EXPECT_EQ(loaded->get_heads(), d.get_heads());
  EXPECT_EQ(loaded->changes_info().size(), 3u);
}

TEST(History, GetChangesSinceAndChangeInfo) {
  Document d(actor("aaaa"));
  ASSERT_TRUE(d.put(kRoot, "a", std::int64_t{1}).ok());
  auto h1 = d.commit(CommitOptions{"first", 1700000000});
  ASSERT_TRUE(h1);
  ASSERT_TRUE(d.put(kRoot, "a", std::int64_t{2}).ok());
  auto h2 = d.commit();
  EXPECT_FALSE(d.commit());  // nothing pending
  EXPECT_EQ(d.get_changes({}).size(), 2u);
  auto since = d.get_changes({*h1});
  ASSERT_EQ(since.size(), 1u);
  EXPECT_EQ(since[0], *d.get_change_by_hash(*h2));
  EXPECT_TRUE(d.get_changes({*h2}).empty());
  auto info = d.changes_info();
  ASSERT_EQ(info.size(), 2u);
  EXPECT_EQ(info[0].message, "first");
  EXPECT_EQ(info[0].time, 1700000000);
  EXPECT_EQ(info[1].seq, 2u);
  EXPECT_EQ(info[1].start_op, 2u);
  EXPECT_EQ(info[1].deps, std::vector<ChangeHash>{*h1});
  EXPECT_TRUE(d.has_change(*h2));
}

TEST(History, ChangeGraphMatchesChangesInfo) {
  Document a(actor("aaaa"));
  ASSERT_TRUE(a.put(kRoot, "x", std::int64_t{1}).ok());
  a.commit();
  Document b = a.fork(actor("bbbb"));
  Document c = a.fork(actor("cccc"));
  ASSERT_TRUE(b.put(kRoot, "y", std::int64_t{2}).ok());
  b.commit();
  ASSERT_TRUE(c.put(kRoot, "z", std::int64_t{3}).ok());
  c.commit();
  ASSERT_TRUE(a.merge(b).ok());
  ASSERT_TRUE(a.merge(c).ok());
  ASSERT_TRUE(a.put(kRoot, "w", std::int64_t{4}).ok());  // pending: change_graph commits it
  const ChangeGraph g = a.change_graph();
  const auto info = a.changes_info();
  ASSERT_EQ(g.hashes.size(), 4u);
  ASSERT_EQ(info.size(), 4u);
  ASSERT_EQ(g.dep_start.size(), 5u);
  EXPECT_EQ(g.dep_start.front(), 0u);
  EXPECT_EQ(g.dep_start.back(), g.deps.size());
  for (std::size_t i = 0; i < info.size(); ++i) {
    EXPECT_EQ(g.hashes[i], info[i].hash);
    std::vector<ChangeHash> deps;
    for (auto j = g.dep_start[i]; j < g.dep_start[i + 1]; ++j) {
      ASSERT_LT(g.deps[j], i);
      deps.push_back(g.hashes[g.deps[j]]);
    }
    EXPECT_EQ(deps, info[i].deps);
  }
  EXPECT_EQ(g.dep_start[4] - g.dep_start[3], 2u);  // the last change merges two heads
  EXPECT_TRUE(Document(actor("dddd")).change_graph().deps.empty());
}

TEST(History, MissingDepsQueueUntilTheyArrive) {
  Document src(actor("aaaa"));
  std::vector<ChangeHash> hashes;
  for (std::int64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(src.put(kRoot, "k", i).ok());
    hashes.push_back(*src.commit());
  }
  auto changes = src.get_changes({});
  Document dst(actor("bbbb"));
  ASSERT_TRUE(dst.apply_changes({changes[2]}).ok());
  EXPECT_TRUE(dst.get_heads().empty());
  EXPECT_EQ(dst.get_missing_deps({}), std::vector<ChangeHash>{hashes[1]});
  ASSERT_TRUE(dst.apply_changes({changes[1]}).ok());
  EXPECT_EQ(dst.get_missing_deps({}), std::vector<ChangeHash>{hashes[0]});
  EXPECT_EQ(dst.get_missing_deps({hashes[2]}), std::vector<ChangeHash>{hashes[0]});
  // save() keeps queued changes after the document chunk.
  auto reloaded = Document::load(dst.save(), actor("cc"));
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(reloaded->get_missing_deps({}), std::vector<ChangeHash>{hashes[0]});
  ASSERT_TRUE(dst.apply_changes({changes[0]}).ok());
  EXPECT_TRUE(dst.get_missing_deps({}).empty());
  EXPECT_EQ(dst.get_heads(), std::vector<ChangeHash>{hashes[2]});
  EXPECT_EQ(as_int(dst.get(kRoot, "k")), 2);
}

TEST(History, DuplicateChangesInABatchApplyOnce) {
  Document src(actor("aaaa"));
  ASSERT_TRUE(src.put(kRoot, "a", std::int64_t{1}).ok());
  src.commit();
  ASSERT_TRUE(src.put(kRoot, "b", std::int64_t{2}).ok());
  src.commit();
  auto c = src.get_changes({});
  Document dst(actor("bbbb"));
  // The second change twice while its dependency is missing, then everything twice.
  ASSERT_TRUE(dst.apply_changes({c[1], c[1]}).ok());
  EXPECT_EQ(dst.get_missing_deps({}).size(), 1u);
  ASSERT_TRUE(dst.apply_changes({c[1], c[0], c[0], c[1]}).ok());
  EXPECT_EQ(dst.changes_info().size(), 2u);
  EXPECT_EQ(dst.get_heads(), src.get_heads());
  EXPECT_TRUE(dst.get_missing_deps({}).empty());
}

TEST(History, CorruptChunkLeavesDocumentUnchanged) {
  Document src(actor("aaaa"));
  ASSERT_TRUE(src.put(kRoot, "a", std::int64_t{1}).ok());
  src.commit();
  ASSERT_TRUE(src.put(kRoot, "b", std::int64_t{2}).ok());
  src.commit();
  auto changes = src.get_changes({});
  Document dst(actor("bbbb"));
  Bytes batch = changes[0];
  Bytes bad = changes[1];
  bad[bad.size() - 1] ^= 0x55;  // checksum no longer matches
  batch.insert(batch.end(), bad.begin(), bad.end());
  auto s = dst.load_incremental(batch);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "BAD_CHECKSUM");
  EXPECT_TRUE(dst.get_heads().empty());
  EXPECT_EQ(to_json(dst), "{}");
  EXPECT_FALSE(Document::load(Bytes(batch.begin(), batch.begin() + 20), actor("01")).ok());
  EXPECT_FALSE(Document::load(Bytes{}, actor("01")).ok());
}

TEST(History, SemanticErrorMidBatchIsRolledBack) {
  Document src(actor("aaaa"));
  ASSERT_TRUE(src.put(kRoot, "a", std::int64_t{1}).ok());
  src.commit();
  Document dst(actor("bbbb"));
  ASSERT_TRUE(dst.put(kRoot, "mine", std::int64_t{9}).ok());
  dst.commit();
  const auto heads_before = dst.get_heads();
  const auto json_before = to_json(dst);
  // A well-formed change whose op targets object 3@aaaa, which does not exist.
  Change bad;
  bad.seq = 1;
  bad.start_op = 5;
  ChangeOp op;
  op.obj = OpRef{3, 1};
  op.key_is_str = true;
  op.key_str = "x";
  op.value = std::int64_t{1};
  bad.ops.push_back(op);
  Bytes bad_chunk = chunk::write_chunk(chunk::ChunkType::kChange,
                                       encode_change_body(bad, {actor("dddd"), actor("aaaa")}, 0));
  auto s = dst.apply_changes({src.get_changes({})[0], bad_chunk});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "INVALID_OP");
  EXPECT_EQ(dst.get_heads(), heads_before);
  EXPECT_EQ(to_json(dst), json_before);
  EXPECT_EQ(dst.changes_info().size(), 1u);
  // The document still works afterwards.
  ASSERT_TRUE(dst.apply_changes(src.get_changes({})).ok());
  EXPECT_EQ(to_json(dst), "{\"a\":1,\"mine\":9}");
}

TEST(History, InvalidQueuedChangeIsDroppedWhenItsDepsArrive) {
  Document src(actor("aaaa"));
  ASSERT_TRUE(src.put(kRoot, "a", std::int64_t{1}).ok());
  auto a = src.commit();
  ASSERT_TRUE(a);
  // Depends on `a` and targets object 3@aaaa, which never exists.
  Change bad;
  bad.deps = {*a};
  bad.seq = 1;
  bad.start_op = 5;
  ChangeOp op;
  op.obj = OpRef{3, 1};
  op.key_is_str = true;
  op.key_str = "x";
  bad.ops.push_back(op);
  Bytes bad_chunk = chunk::write_chunk(chunk::ChunkType::kChange,
                                       encode_change_body(bad, {actor("dddd"), actor("aaaa")}, 0));
  Document dst(actor("bbbb"));
  ASSERT_TRUE(dst.apply_changes({bad_chunk}).ok());  // waits for `a`
  EXPECT_EQ(dst.get_missing_deps({}), std::vector<ChangeHash>{*a});
  ASSERT_TRUE(dst.apply_changes(src.get_changes({})).ok());
  EXPECT_EQ(dst.get_heads(), std::vector<ChangeHash>{*a});
  EXPECT_TRUE(dst.get_missing_deps({}).empty());
  EXPECT_EQ(to_json(dst), "{\"a\":1}");
}

TEST(History, RollbackDropsPendingOps) {
  Document d(actor("aaaa"));
  ASSERT_TRUE(d.put(kRoot, "a", std::int64_t{1}).ok());
  d.commit();
  auto t = d.put_object(kRoot, "t", ObjType::kText);
  ASSERT_TRUE(d.splice_text(*t, 0, 0, "hello").ok());
  ASSERT_TRUE(d.put(kRoot, "a", std::int64_t{2}).ok());
  EXPECT_EQ(d.pending_ops(), 7u);
  EXPECT_EQ(as_int(d.get(kRoot, "a")), 2);  // reads see pending edits
  d.rollback();
  EXPECT_EQ(d.pending_ops(), 0u);
  EXPECT_EQ(to_json(d), "{\"a\":1}");
  ASSERT_TRUE(d.put(kRoot, "b", std::int64_t{3}).ok());
  auto h = d.commit();
  ASSERT_TRUE(h);
  EXPECT_EQ(d.changes_info().back().start_op, 2u);
}

TEST(Api, ErrorsForBadTargets) {
  Document d(actor("aaaa"));
  ObjId missing{42, actor("ffff")};
  EXPECT_EQ(d.put(missing, "k", Null{}).error().code, "NOT_FOUND");
  auto l = d.put_object(kRoot, "l", ObjType::kList);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(d.put(*l, "k", Null{}).error().code, "INVALID_PROP");
  EXPECT_EQ(d.put(kRoot, std::size_t{0}, Null{}).error().code, "INVALID_PROP");
  EXPECT_EQ(d.insert(*l, 1, Null{}).error().code, "INDEX_OUT_OF_RANGE");
  EXPECT_EQ(d.insert(kRoot, 0, Null{}).error().code, "NOT_A_SEQUENCE");
  EXPECT_FALSE(d.put(kRoot, "s", std::string("\xc3")).ok());
  EXPECT_TRUE(d.remove(kRoot, "absent").ok());  // no-op
  EXPECT_EQ(d.object_type(*l), ObjType::kList);
  EXPECT_FALSE(d.object_type(missing));
}

TEST(Api, JsonRendersEveryValueType) {
  Document d(actor("aaaa"));
  ASSERT_TRUE(d.put(kRoot, "f", 1.5).ok());
  ASSERT_TRUE(d.put(kRoot, "z", -0.0).ok());
  ASSERT_TRUE(d.put(kRoot, "big", 1e20).ok());
  ASSERT_TRUE(d.put(kRoot, "u", std::uint64_t{18446744073709551615u}).ok());
  ASSERT_TRUE(d.put(kRoot, "s", std::string("q\"\\\n\x01\xC3\xA9")).ok());
  ASSERT_TRUE(d.put(kRoot, "by", Bytes{1, 2, 3}).ok());
  ASSERT_TRUE(d.put(kRoot, "ts", Timestamp{-5}).ok());
  ASSERT_TRUE(d.put(kRoot, "n", Null{}).ok());
  ASSERT_TRUE(d.put(kRoot, "x", UnknownValue{12, {9}}).ok());
  EXPECT_FALSE(d.put(kRoot, "bad", UnknownValue{3, {}}).ok());
  auto l = d.put_object(kRoot, "l", ObjType::kList);
  ASSERT_TRUE(d.insert(*l, 0, true).ok());
  auto t = d.insert_object(*l, 1, ObjType::kText);
  ASSERT_TRUE(d.splice_text(*t, 0, 0, "hi").ok());
  EXPECT_EQ(to_json(d),
            "{\"big\":100000000000000000000,\"by\":\"AQID\",\"f\":1.5,\"l\":[true,\"hi\"],"
            "\"n\":null,\"s\":\"q\\\"\\\\\\n\\u0001\xC3\xA9\",\"ts\":-5,"
            "\"u\":18446744073709551615,\"x\":null,\"z\":0}");
  // Unknown value types survive a save/load round trip.
  auto loaded = Document::load(d.save(), actor("bbbb"));
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(std::get<ScalarValue>(*loaded->get(kRoot, "x")), ScalarValue(UnknownValue{12, {9}}));
}

TEST(Api, EmptyDocumentSavesToTheJsBytes) {
  Document d(actor("aaaa"));
  EXPECT_EQ(to_hex(d.save()), "856f4a83b81a9544000400000000");
  auto loaded = Document::load(d.save(), actor("bbbb"));
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->get_heads().empty());
}

TEST(Api, ForkAndMergeConverge) {
  Document a(actor("aaaa"));
  auto t = a.put_object(kRoot, "t", ObjType::kText);
  ASSERT_TRUE(a.splice_text(*t, 0, 0, "hello").ok());
  a.commit();
  Document b = a.fork(actor("bbbb"));
  EXPECT_EQ(b.get_heads(), a.get_heads());
  ASSERT_TRUE(a.splice_text(*t, 5, 0, " world").ok());
  ASSERT_TRUE(b.splice_text(*t, 0, 1, "J").ok());
  ASSERT_TRUE(a.merge(b).ok());
  ASSERT_TRUE(b.merge(a).ok());
  EXPECT_EQ(a.text(*t), "Jello world");
  EXPECT_EQ(b.text(*t), "Jello world");
  EXPECT_EQ(a.get_heads(), b.get_heads());
  EXPECT_EQ(as_str(a.get(*t, std::size_t{0})), "J");
}

}  // namespace
}  // namespace peat::doc

namespace peat::doc {
namespace {

TEST(History, MaxOpTracksTheLargestCounterIncludingPendingOps) {
  Document d(from_hex("aaaa").value());
  EXPECT_EQ(d.max_op(), 0u);
  ASSERT_TRUE(d.put(kRoot, std::string("a"), std::int64_t{1}).ok());
  ASSERT_TRUE(d.put(kRoot, std::string("b"), std::int64_t{2}).ok());
  EXPECT_EQ(d.max_op(), 2u);  // pending ops count: the next op would be 3
  d.commit();
  Document other(from_hex("bbbb").value());
  ASSERT_TRUE(other.merge(d).ok());
  ASSERT_TRUE(other.put(kRoot, std::string("c"), std::int64_t{3}).ok());
  other.commit();
  EXPECT_EQ(other.max_op(), 3u);
  std::uint64_t from_changes = 0;
  for (const auto& c : other.changes_info()) from_changes = std::max(from_changes, c.max_op);
  EXPECT_EQ(other.max_op(), from_changes);
}

}  // namespace
}  // namespace peat::doc
