// Wire codec of the blob protocol: round trips, the documented byte layout, and rejection of
// malformed input.
#include "peat/blob/blob_message.hpp"

#include <gtest/gtest.h>

namespace peat::blob {
namespace {

BlobHash some_hash() {
  BlobHash h;
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(i);
  return h;
}

template <typename T>
T round_trip(const T& m) {
  auto decoded = decode_message(encode(m));
  EXPECT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_TRUE(std::holds_alternative<T>(*decoded));
  return std::get<T>(*decoded);
}

std::string code_of(ByteView bytes) {
  auto d = decode_message(bytes);
  return d.ok() ? "OK" : d.error().code;
}
std::string message_of(ByteView bytes) {
  auto d = decode_message(bytes);
  return d.ok() ? "" : d.error().message;
}

TEST(BlobMessage, RoundTripsEveryType) {
  RequestMsg req{7, some_hash(), 12345, 8};
  EXPECT_EQ(round_trip(req), req);
  OfferMsg offer{9, some_hash(), 1 << 20, 4096, 65536, {}};
  EXPECT_EQ(round_trip(offer), offer);
  offer.metadata.name = "map.tiles";
  offer.metadata.content_type = "application/octet-stream";
  offer.metadata.custom = {{"zoom", "12"}, {"ünïcode", "ok"}};
  EXPECT_EQ(round_trip(offer), offer);
  Bytes payload = to_bytes("chunk bytes");
  Bytes wire = encode(ChunkMsg{3, 99, payload});  // a decoded chunk views the wire bytes
  auto decoded = decode_message(wire);
  ASSERT_TRUE(decoded.ok());
  ChunkMsg chunk = std::get<ChunkMsg>(*decoded);
  EXPECT_EQ(chunk.transfer_id, 3u);
  EXPECT_EQ(chunk.offset, 99u);
  EXPECT_EQ(Bytes(chunk.data.begin(), chunk.data.end()), payload);
  EXPECT_EQ(round_trip(EndMsg{4, 1000}), (EndMsg{4, 1000}));
  EXPECT_EQ(round_trip(ErrorMsg{5, "NOT_FOUND", "no blob"}), (ErrorMsg{5, "NOT_FOUND", "no blob"}));
  EXPECT_EQ(round_trip(AckMsg{6, 777, 16}), (AckMsg{6, 777, 16}));
  EXPECT_EQ(transfer_id_of(BlobMessage{AckMsg{6, 777, 16}}), 6u);
}

TEST(BlobMessage, ByteLayoutIsAsDocumented) {
  // ACK: version 1, type 6, transfer id, offset, window; big-endian.
  EXPECT_EQ(to_hex(encode(AckMsg{0x01020304, 0x0a0b, 8})), "0106010203040000000000000a0b00000008");
  EXPECT_EQ(to_hex(encode(ChunkMsg{1, 2, to_bytes("hi")})), "01030000000100000000000000026869");
  EXPECT_EQ(to_hex(encode(ErrorMsg{1, "X", "y"})),
            "0105000000010001580001"
            "79");
}

TEST(BlobMessage, RejectsMalformedInput) {
  EXPECT_EQ(code_of({}), "BLOB_BAD_MESSAGE");
  EXPECT_EQ(code_of(Bytes{1, 6, 0}), "BLOB_BAD_MESSAGE");
  Bytes ack = encode(AckMsg{1, 2, 3});
  Bytes v2 = ack;
  v2[0] = 2;
  EXPECT_NE(message_of(v2).find("version 2"), std::string::npos);
  Bytes unknown = ack;
  unknown[1] = 42;
  EXPECT_NE(message_of(unknown).find("unknown message type 42"), std::string::npos);
  Bytes trailing = ack;
  trailing.push_back(0);
  EXPECT_NE(message_of(trailing).find("trailing"), std::string::npos);
  for (std::size_t n = 0; n < ack.size(); ++n) {  // every truncation
    EXPECT_EQ(code_of(ByteView(ack).first(n)), "BLOB_BAD_MESSAGE") << n;
  }
  Bytes offer = encode(OfferMsg{1, some_hash(), 10, 0, 4, {{"name"}, {"type"}, {{"k", "v"}}}});
  for (std::size_t n = 0; n < offer.size(); ++n) {
    EXPECT_EQ(code_of(ByteView(offer).first(n)), "BLOB_BAD_MESSAGE") << n;
  }
  EXPECT_NE(message_of(encode(OfferMsg{1, some_hash(), 10, 11, 4, {}})).find("past its size"),
            std::string::npos);
  EXPECT_NE(message_of(encode(OfferMsg{1, some_hash(), 10, 0, 0, {}})).find("chunk size 0"),
            std::string::npos);
  EXPECT_EQ(code_of(encode(OfferMsg{1, some_hash(), 10, 0, kMaxChunkSize + 1, {}})),
            "BLOB_BAD_MESSAGE");
  EXPECT_NE(message_of(encode(RequestMsg{1, some_hash(), 0, 0})).find("window of 0"),
            std::string::npos);
  EXPECT_NE(message_of(encode(ChunkMsg{1, 0, {}})).find("empty CHUNK"), std::string::npos);
  EXPECT_NE(message_of(encode(ChunkMsg{1, UINT64_MAX, to_bytes("ab")})).find("overflows"),
            std::string::npos);
  Bytes big_chunk = encode(ChunkMsg{1, 0, Bytes(kMaxChunkSize + 1, 0)});
  EXPECT_EQ(code_of(big_chunk), "BLOB_BAD_MESSAGE");
  // Invalid UTF-8 in metadata, unknown flag bits.
  Bytes bad_utf8 = encode(OfferMsg{1, some_hash(), 10, 0, 4, {{"ab"}, {}, {}}});
  bad_utf8[bad_utf8.size() - 4] = 0xff;  // first byte of the name
  EXPECT_NE(message_of(bad_utf8).find("UTF-8"), std::string::npos);
  Bytes flags = encode(OfferMsg{1, some_hash(), 10, 0, 4, {}});
  flags[6 + 32 + 8 + 8 + 4] = 0x80;
  EXPECT_NE(message_of(flags).find("flag"), std::string::npos);
}

}  // namespace
}  // namespace peat::blob
