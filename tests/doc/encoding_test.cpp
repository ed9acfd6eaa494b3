// LEB128, RLE, delta and boolean column codecs: exact bytes, round trips, strict rejection.
#include "doc/encoding.hpp"

#include <gtest/gtest.h>

#include "doc/chunk.hpp"

namespace peat::doc::enc {
namespace {

std::string uleb_hex(std::uint64_t v) {
  Bytes b;
  put_uleb(b, v);
  return to_hex(b);
}
std::string sleb_hex(std::int64_t v) {
  Bytes b;
  put_sleb(b, v);
  return to_hex(b);
}

TEST(Leb128, SpecExamples) {
  EXPECT_EQ(uleb_hex(0), "00");
  EXPECT_EQ(uleb_hex(63), "3f");
  EXPECT_EQ(uleb_hex(300), "ac02");
  EXPECT_EQ(sleb_hex(64), "c000");
  EXPECT_EQ(sleb_hex(-1), "7f");
  EXPECT_EQ(sleb_hex(-64), "40");
  EXPECT_EQ(sleb_hex(-65), "bf7f");
  EXPECT_EQ(sleb_hex(1000), "e807");
}

TEST(Leb128, RoundTripsExtremes) {
  for (std::int64_t v : {INT64_MIN, INT64_MIN + 1, std::int64_t{-1}, std::int64_t{0},
                         std::int64_t{1}, INT64_MAX, std::int64_t{-8192}, std::int64_t{8191}}) {
    Bytes b;
    put_sleb(b, v);
    Reader r(b);
    auto got = r.sleb();
    ASSERT_TRUE(got.ok()) << v;
    EXPECT_EQ(*got, v);
    EXPECT_TRUE(r.done());
  }
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{127}, std::uint64_t{128}, UINT64_MAX}) {
    Bytes b;
    put_uleb(b, v);
    EXPECT_EQ(b.size(), uleb_size(v));
    Reader r(b);
    auto got = r.uleb();
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, v);
  }
}

TEST(Leb128, RejectsOverlongOverflowAndTruncation) {
  auto u = [](const std::string& h) {
    Bytes b = from_hex(h).value();
    Reader r(b);
    return r.uleb().ok();
  };
  auto s = [](const std::string& h) {
    Bytes b = from_hex(h).value();
    Reader r(b);
    return r.sleb().ok();
  };
  EXPECT_FALSE(u("8000"));                    // overlong zero
  EXPECT_FALSE(u("ff"));                      // truncated
  EXPECT_FALSE(u("ffffffffffffffffff02"));    // overflows 64 bits
  EXPECT_FALSE(u("8080808080808080808001"));  // 11 bytes
  EXPECT_TRUE(u("ffffffffffffffffff01"));     // UINT64_MAX
  EXPECT_FALSE(s("ff7f"));                    // -1 written with a redundant byte
  EXPECT_FALSE(s("8000"));                    // 0 written with a redundant byte
  EXPECT_FALSE(s("ffffffffffffffffff01"));    // 10th byte neither 0x00 nor 0x7f
  EXPECT_TRUE(s("8080808080808080807f"));     // INT64_MIN
}

TEST(Rle, CanonicalEncoding) {
  RleEncoder<std::uint64_t> e;
  for (std::uint64_t v : {1, 1, 1, 2, 3, 3}) e.append(v);
  // run(3,1), literal [2], run(2,3)
  EXPECT_EQ(to_hex(e.finish()), "03017f020203");

  RleEncoder<std::uint64_t> lone;
  lone.append(7);
  EXPECT_EQ(to_hex(lone.finish()), "7f07");

  RleEncoder<std::uint64_t> nulls;
  nulls.append_null();
  nulls.append_null();
  EXPECT_TRUE(nulls.finish().empty());  // an all-null column has no bytes

  RleEncoder<std::uint64_t> mixed;
  mixed.append_null();
  mixed.append(5);
  mixed.append_null();
  EXPECT_EQ(to_hex(mixed.finish()), "00017f050001");

  RleEncoder<std::string> strs;
  strs.append("a");
  strs.append("a");
  strs.append("b");
  EXPECT_EQ(to_hex(strs.finish()), "0201617f0162");
}

TEST(Rle, DecoderToleratesNonCanonicalAndRejectsMalformed) {
  auto v = decode_uleb_rle(from_hex("01050105").value());  // two repeat runs of one
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->size(), 2u);
  EXPECT_EQ(*(*v)[1], 5u);
  EXPECT_FALSE(decode_uleb_rle(from_hex("0000").value()).ok());          // empty null run
  EXPECT_FALSE(decode_uleb_rle(from_hex("7d01").value()).ok());          // literal cut short
  EXPECT_FALSE(decode_uleb_rle(from_hex("ffffffff0f05").value()).ok());  // run too long
  EXPECT_FALSE(decode_string_rle(from_hex("7f01ff").value()).ok());      // invalid UTF-8
}

TEST(Delta, SpecExamples) {
  DeltaEncoder d;
  for (std::int64_t v : {3, 4, 5, 6, 9, 7, 8}) d.append(v);
  EXPECT_EQ(to_hex(d.finish()), "7f0303017d037e01");
  DeltaEncoder n;
  n.append_null();
  n.append(0);
  n.append(2);
  Bytes b = n.finish();
  EXPECT_EQ(to_hex(b), "00017e0002");
  auto back = decode_delta(b);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 3u);
  EXPECT_FALSE((*back)[0].has_value());
  EXPECT_EQ(*(*back)[2], 2);
}

TEST(Bool, SpecExamples) {
  BoolEncoder a;
  for (bool v : {true, true, false, false, false}) a.append(v);
  EXPECT_EQ(to_hex(a.finish()), "000203");
  BoolEncoder f;
  f.append(false);
  EXPECT_EQ(to_hex(f.finish()), "01");
  auto back = decode_bool(from_hex("000203").value());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (std::vector<bool>{true, true, false, false, false}));
}

TEST(Utf8, ValidationAndUtf16Width) {
  EXPECT_TRUE(valid_utf8("a\xC3\xA7\xF0\x9F\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xC0\x80"));      // overlong
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(valid_utf8("\xF0\x9F\x98"));  // truncated
  EXPECT_EQ(utf16_len("a\xC3\xA7\xF0\x9F\x98\x80"), 4u);
}

TEST(Chunk, ContainerRoundTripAndChecksum) {
  Bytes body = {1, 2, 3};
  Bytes c = chunk::write_chunk(chunk::ChunkType::kChange, body);
  auto parsed = chunk::split_chunks(c);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ(Bytes(parsed->front().body.begin(), parsed->front().body.end()), body);
  Bytes bad = c;
  bad[5] ^= 1;
  auto e = chunk::split_chunks(bad);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, "BAD_CHECKSUM");
  Bytes cut(c.begin(), c.end() - 1);
  auto t = chunk::split_chunks(cut);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, "TRUNCATED");
  Bytes typ = chunk::write_chunk(chunk::ChunkType::kChange, body);
  typ[8] = 3;  // bundle chunks are not supported
  EXPECT_FALSE(chunk::split_chunks(typ).ok());
}

TEST(Chunk, EmptyDocumentBytes) {
  Bytes c = chunk::write_chunk(chunk::ChunkType::kDocument, from_hex("00000000").value());
  EXPECT_EQ(to_hex(c), "856f4a83b81a9544000400000000");
}

TEST(Chunk, DeflateRoundTrip) {
  Bytes data(5000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 % 13);
  Bytes z = chunk::deflate_raw(data);
  EXPECT_LT(z.size(), data.size());
  auto back = chunk::inflate_raw(z, 1 << 20);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, data);
  EXPECT_FALSE(chunk::inflate_raw(z, 100).ok());  // output limit
  Bytes broken(z.begin(), z.begin() + static_cast<std::ptrdiff_t>(z.size() / 2));
  EXPECT_FALSE(chunk::inflate_raw(broken, 1 << 20).ok());
}

}  // namespace
}  // namespace peat::doc::enc
