#include "peat/doc/sync/message.hpp"

#include <gtest/gtest.h>

#include "doc/sync/test_vectors.hpp"

namespace peat::doc::sync {
namespace {

using testing::hash_of;
using testing::hex;

const std::string kH = testing::kChangeHashHex;

// Session 3.7 step 1 (A -> B): V1, heads [h], one Have with a 1-entry filter, flags 02 02 84.
const std::string kStep1 = "42 01" + kH + "00 01 00 05 010a07c718 00 02 02 84";
// Step 2 (B -> A): V2, no heads, needs h, Have with an empty filter.
const std::string kStep2 = "43 00 01" + kH + "01 00 00 00 02 02 84";
// Step 4 (B -> A): heads [h], Have lastSync [h].
const std::string kStep4 = "43 01" + kH + "00 01 01" + kH + "00 00 02 02 84";

Message step1() {
  Message m;
  m.version = MessageVersion::kV1;
  m.heads = {hash_of(kH)};
  const ChangeHash hs[] = {hash_of(kH)};
  m.have = {Have{{}, BloomFilter::from_hashes(hs)}};
  m.trailer = Trailer{{kCapabilityV2}, kFlagSupportsSyncReset};
  return m;
}

TEST(SyncMessage, EncodesObservedSessionByteForByte) {
  EXPECT_EQ(to_hex(encode_message(step1())), to_hex(hex(kStep1)));

  Message m2;
  m2.version = MessageVersion::kV2;
  m2.need = {hash_of(kH)};
  m2.have = {Have{}};
  m2.trailer = Trailer{{kCapabilityV2}, kFlagSupportsSyncReset};
  EXPECT_EQ(to_hex(encode_message(m2)), to_hex(hex(kStep2)));

  Message m4;
  m4.version = MessageVersion::kV2;
  m4.heads = {hash_of(kH)};
  m4.have = {Have{{hash_of(kH)}, {}}};
  m4.trailer = Trailer{{kCapabilityV2}, kFlagSupportsSyncReset};
  EXPECT_EQ(to_hex(encode_message(m4)), to_hex(hex(kStep4)));
}

TEST(SyncMessage, DecodesObservedSession) {
  auto m = decode_message(hex(kStep1));
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(*m, step1());
  for (const auto& s : {kStep2, kStep4}) {
    auto d = decode_message(hex(s));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->version, MessageVersion::kV2);
    EXPECT_EQ(to_hex(encode_message(*d)), to_hex(hex(s)));
  }
}

TEST(SyncMessage, V1ChangesAndV2BlobRoundTrip) {
  Message m = step1();
  m.changes = {hex(testing::kChangeHex), hex(testing::kChangeHex)};
  auto d = decode_message(encode_message(m));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, m);

  m.version = MessageVersion::kV2;
  m.changes = {hex("856f4a83b81a954400040000000000")};
  d = decode_message(encode_message(m));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, m);
}

TEST(SyncMessage, TrailerIsOptionalAndParsedLeniently) {
  // No trailer: a V1-only peer.
  auto none = decode_message(hex("42 00 00 00 00"));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->trailer.has_value());
  EXPECT_EQ(to_hex(encode_message(*none)), "4200000000");

  // npm 3.0-3.2.5 trailer: capabilities V1 and V2, no flags byte.
  auto old = decode_message(hex("42 00 00 00 00 02 01 02"));
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(old->trailer.has_value());
  EXPECT_EQ(old->trailer->capabilities, (std::vector<std::uint8_t>{1, 2}));
  EXPECT_FALSE(old->trailer->flags.has_value());

  // Unknown capability codes and flag bits are kept, not rejected; later bytes are ignored.
  auto odd = decode_message(hex("43 00 00 00 00 03 07 ff 02 aa bb"));
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->trailer->capabilities, (std::vector<std::uint8_t>{7, 2}));
  EXPECT_EQ(odd->trailer->flags, 0x7f);

  // An empty trailer is still a trailer.
  auto empty = decode_message(hex("43 00 00 00 00 00"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->trailer.has_value());
}

TEST(SyncMessage, RejectsMalformedInput) {
  const std::vector<std::string> bad = {
      "",                          // nothing
      "44 00 00 00 00",            // wrong type
      "42",                        // truncated heads
      "42 01 00",                  // one head declared, one byte present
      "42 00 00",                  // missing have
      "42 00 00 01",               // have declared, missing
      "42 00 00 01 00 05 010a07",  // bloom length beyond input
      "42 00 00 01 00 02 010a",    // bloom itself truncated
      "42 00 00 00",               // missing changes
      "42 00 00 00 01 05 0102",    // change shorter than its length
      "42 00 00 00 00 05 02",      // trailer shorter than its length
      "42 80 00 00 00 00",         // overlong LEB128
      "42 ffffffffffffffffff7f",   // LEB128 overflow
      "42 00 00 ffffffff0f",       // absurd have count
      "42 00 00 00 ffffffff0f",    // absurd change count
  };
  for (const auto& b : bad) {
    auto d = decode_message(hex(b));
    ASSERT_FALSE(d.ok()) << b;
    EXPECT_EQ(d.error().code, "INVALID_SYNC_MESSAGE") << b;
    EXPECT_FALSE(d.error().message.empty());
  }
}

}  // namespace
}  // namespace peat::doc::sync
