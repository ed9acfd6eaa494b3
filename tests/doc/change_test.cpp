// Change chunk decoding/encoding: the spec vector, canonical re-encoding, compressed chunks and
// rejection of malformed bodies.
#include <gtest/gtest.h>

#include "doc/change.hpp"
#include "doc/chunk.hpp"
#include "doc/doc_chunk.hpp"
#include "peat/doc/document.hpp"

namespace peat::doc {
namespace {

// Spec §2.12 A: change(init({actor:"aaaa"}),{time:0}, d=>{d.x=1}).
const char* kChangeA =
    "856f4a83221120a401210002aaaa0101000000061503340142025602570170027f0178017f017f14017f00";

Bytes body_of(const Bytes& chunk_bytes) {
  auto c = chunk::split_chunks(chunk_bytes);
  EXPECT_TRUE(c.ok());
  return Bytes(c->front().body.begin(), c->front().body.end());
}

TEST(ChangeChunk, DecodesSpecVectorA) {
  Bytes body = body_of(from_hex(kChangeA).value());
  auto c = decode_change_body(body);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(to_hex(c->actors[0]), "aaaa");
  EXPECT_EQ(c->seq, 1u);
  EXPECT_EQ(c->start_op, 1u);
  EXPECT_EQ(c->time, 0);
  EXPECT_FALSE(c->message);
  ASSERT_EQ(c->ops.size(), 1u);
  EXPECT_TRUE(c->ops[0].key_is_str);
  EXPECT_EQ(c->ops[0].key_str, "x");
  EXPECT_EQ(c->ops[0].action, kActSet);
  EXPECT_EQ(c->ops[0].value, ScalarValue{std::int64_t{1}});
  // Canonical re-encoding reproduces the bytes, hence the hash.
  EXPECT_EQ(encode_change_body(*c, c->actors, 0), body);
  EXPECT_EQ(to_hex(chunk::chunk_hash(chunk::ChunkType::kChange, body)),
            "221120a4c5f1bd0b507beb771b9e20c59bce1c97b23be4f1de9fbe36ea849e6c");
}

TEST(ChangeChunk, OtherActorsAreSortedAndPredsInLamportOrder) {
  // Ops referencing two foreign actors given in reverse byte order.
  std::vector<ActorId> table = {from_hex("cc").value(), from_hex("bb").value(),
                                from_hex("aa").value()};
  Change c;
  c.seq = 1;
  c.start_op = 10;
  ChangeOp op;
  op.key_is_str = true;
  op.key_str = "k";
  op.pred = {OpRef{5, 1}, OpRef{5, 2}, OpRef{3, 1}};
  c.ops.push_back(op);
  Bytes body = encode_change_body(c, table, 0);
  auto back = decode_change_body(body);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->actors.size(), 3u);
  EXPECT_EQ(to_hex(back->actors[1]), "aa");
  EXPECT_EQ(to_hex(back->actors[2]), "bb");
  const auto& p = back->ops[0].pred;
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], (OpRef{3, 2}));  // 3@bb
  EXPECT_EQ(p[1], (OpRef{5, 1}));  // 5@aa
  EXPECT_EQ(p[2], (OpRef{5, 2}));  // 5@bb
}

TEST(ChangeChunk, CompressedChangeIsAcceptedWithTheSameHash) {
  Bytes plain = from_hex(kChangeA).value();
  Bytes body = body_of(plain);
  Bytes deflated = chunk::deflate_raw(body);
  Bytes compressed = chunk::write_chunk(chunk::ChunkType::kCompressedChange, deflated);
  // The header checksum of a type-2 chunk is the uncompressed change's.
  ChangeHash h = chunk::chunk_hash(chunk::ChunkType::kChange, body);
  std::copy(h.begin(), h.begin() + 4, compressed.begin() + 4);
  Document d(from_hex("01").value());
  ASSERT_TRUE(d.load_incremental(compressed).ok());
  ASSERT_EQ(d.get_heads().size(), 1u);
  EXPECT_EQ(d.get_heads()[0], h);
  EXPECT_EQ(d.get_changes({})[0], plain);  // stored uncompressed
  compressed[4] ^= 1;
  Document e(from_hex("01").value());
  auto s = e.load_incremental(compressed);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "BAD_CHECKSUM");
}

Status load_body(const Bytes& body) {
  Document d(from_hex("01").value());
  return d.load_incremental(chunk::write_chunk(chunk::ChunkType::kChange, body));
}

TEST(ChangeChunk, RejectsMalformedBodies) {
  Bytes body = body_of(from_hex(kChangeA).value());
  // Truncated body (valid checksum over the shorter body).
  EXPECT_FALSE(load_body(Bytes(body.begin(), body.end() - 3)).ok());
  // Unknown column spec (0x15 key string -> 0x1d: id 1, type 5 | deflate bit): deflate bit in a
  // change chunk is invalid.
  Bytes deflated = body;
  deflated[10] = 0x1d;
  auto e1 = load_body(deflated);
  ASSERT_FALSE(e1.ok());
  EXPECT_EQ(e1.error().code, "INVALID_COLUMN");
  // An unknown column id (0x15 -> 0x16 is id 1 type 6, not defined).
  Bytes unknown = body;
  unknown[10] = 0x16;
  auto e2 = load_body(unknown);
  ASSERT_FALSE(e2.ok());
  EXPECT_EQ(e2.error().code, "INVALID_COLUMN");
  // Invalid UTF-8 in the map key ("x" -> 0xff).
  Bytes bad_key = body;
  bad_key[24] = 0xff;
  auto e3 = load_body(bad_key);
  ASSERT_FALSE(e3.ok());
  EXPECT_EQ(e3.error().code, "INVALID_UTF8");
  // Action 9 does not exist.
  Bytes bad_action = body;
  bad_action[27] = 0x09;
  auto e4 = load_body(bad_action);
  ASSERT_FALSE(e4.ok());
  EXPECT_EQ(e4.error().code, "INVALID_ACTION");
  // startOp zero.
  Bytes zero_start = body;
  zero_start[5] = 0x00;
  EXPECT_FALSE(load_body(zero_start).ok());
}

TEST(ChangeChunk, RunLengthBombIsRefused) {
  // Eleven bytes of columns describing three million ops.
  Bytes key, action;
  enc::put_sleb(key, 3'000'000);
  key.insert(key.end(), {0x01, 'x'});
  enc::put_sleb(action, 3'000'000);
  action.push_back(0x01);
  Bytes body = {0x00, 0x01, 0xaa, 0x01, 0x01, 0x00, 0x00, 0x00, 0x02, 0x15};
  body.push_back(static_cast<std::uint8_t>(key.size()));
  body.push_back(0x42);
  body.push_back(static_cast<std::uint8_t>(action.size()));
  body.insert(body.end(), key.begin(), key.end());
  body.insert(body.end(), action.begin(), action.end());
  auto c = decode_change_body(body);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "TOO_LARGE");
}

TEST(DocumentChunk, StreamingRebuildChecksHeadsBeforeTheLastChange) {
  Document d(from_hex("aaaa").value());
  for (std::int64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(d.put(kRoot, "x", i).ok());
    d.commit();
  }
  const auto info = d.changes_info();
  auto doc = decode_document_body(body_of(d.save_nocompress()));
  ASSERT_TRUE(doc.ok());
  std::vector<ChangeHash> seen;
  auto collect = [&](RebuiltChange& c) -> Status {
    seen.push_back(c.hash);
    return {};
  };
  ASSERT_TRUE(rebuild_changes(*doc, collect).ok());
  ASSERT_EQ(seen.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(seen[i], info[i].hash);
  // Wrong heads: the error comes before the last change is handed over.
  seen.clear();
  DocChunk wrong_heads = *doc;
  wrong_heads.heads[0][0] ^= 1;
  auto s = rebuild_changes(wrong_heads, collect);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "MISMATCHING_HEADS");
  EXPECT_EQ(seen.size(), 2u);
  // A sink error stops the rebuild.
  std::size_t calls = 0;
  auto s2 = rebuild_changes(*doc, [&](RebuiltChange&) -> Status {
    ++calls;
    return make_error("STOP", "stop");
  });
  ASSERT_FALSE(s2.ok());
  EXPECT_EQ(s2.error().code, "STOP");
  EXPECT_EQ(calls, 1u);
  // A document whose heads do not match leaves an empty document empty and usable.
  Document empty(from_hex("bbbb").value());
  EXPECT_FALSE(empty
                   .load_incremental(chunk::write_chunk(chunk::ChunkType::kDocument,
                                                        encode_document_body(wrong_heads, false)))
                   .ok());
  EXPECT_TRUE(empty.get_heads().empty());
  EXPECT_EQ(empty.op_count(), 0u);
  ASSERT_TRUE(empty.load_incremental(d.save()).ok());
  EXPECT_EQ(empty.get_heads(), d.get_heads());
}

TEST(DocumentChunk, RejectsForwardDepsAndMismatchingHeads) {
  Document d(from_hex("aaaa").value());
  ASSERT_TRUE(d.put(kRoot, "x", std::int64_t{1}).ok());
  d.commit();
  ASSERT_TRUE(d.put(kRoot, "y", std::int64_t{2}).ok());
  d.commit();
  Bytes saved = d.save_nocompress();
  Bytes body = body_of(saved);
  auto doc = decode_document_body(body);
  ASSERT_TRUE(doc.ok());
  ASSERT_TRUE(rebuild_changes(*doc).ok());
  // A stored head that is not the rebuilt head.
  DocChunk wrong_heads = *doc;
  wrong_heads.heads[0][0] ^= 1;
  auto e = rebuild_changes(wrong_heads);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, "MISMATCHING_HEADS");
  auto reloaded = Document::load(
      chunk::write_chunk(chunk::ChunkType::kDocument, encode_document_body(wrong_heads, false)),
      from_hex("01").value());
  ASSERT_FALSE(reloaded.ok());
  EXPECT_EQ(reloaded.error().code, "MISMATCHING_HEADS");
  // Huge op counters are refused without allocating for them.
  DocChunk huge = *doc;
  huge.changes[1].max_op = std::uint64_t{1} << 62;
  auto h = Document::load(
      chunk::write_chunk(chunk::ChunkType::kDocument, encode_document_body(huge, false)),
      from_hex("01").value());
  EXPECT_FALSE(h.ok());
  // A dependency on a later row (a cycle in disguise) is refused when decoding.
  DocChunk forward = *doc;
  forward.changes[0].deps = {1};
  forward.changes[1].deps = {};
  auto f = decode_document_body(encode_document_body(forward, false));
  EXPECT_FALSE(f.ok());
}

}  // namespace
}  // namespace peat::doc
