#include <gtest/gtest.h>

#include "peat/common/random.hpp"
#include "peat/security/group_key.hpp"
#include "test_util.hpp"

namespace peat::security {
namespace {

using test::kNow;

TEST(GroupKey, RoundTripAndRotation) {
  SeededRng rng(8);
  auto key = GroupKey::generate("cell-1", rng, kNow);
  EXPECT_EQ(key.generation(), 1u);
  auto msg = key.encrypt(as_bytes("status report"), rng);
  EXPECT_EQ(msg.cell_id, "cell-1");
  EXPECT_EQ(msg.generation, 1u);
  auto pt = key.decrypt(msg);
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(as_chars(*pt), "status report");

  GroupKey old = key;
  key.rotate(rng, kNow + 1);
  EXPECT_EQ(key.generation(), 2u);
  EXPECT_FALSE(key.key().secret() == old.key().secret());
  auto fresh = key.encrypt(as_bytes("after rotation"), rng);
  auto stale = old.decrypt(fresh);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, "KEY_GENERATION_MISMATCH");
  EXPECT_EQ(stale.error().message, "key generation mismatch: expected 1, got 2");
  // Even with the generation forged, the old key cannot decrypt.
  fresh.generation = 1;
  EXPECT_EQ(old.decrypt(fresh).error().code, "DECRYPTION_ERROR");
}

TEST(GroupKey, CellMismatch) {
  SeededRng rng(8);
  auto a = GroupKey::generate("cell-a", rng, kNow);
  GroupKey b("cell-b", a.key().secret(), 1, kNow);
  auto r = b.decrypt(a.encrypt(as_bytes("x"), rng));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "DECRYPTION_ERROR");
  EXPECT_EQ(r.error().message, "cell ID mismatch: expected cell-b, got cell-a");
}

TEST(EncryptedCellMessage, EncodeDecode) {
  SeededRng rng(2);
  auto key = GroupKey::generate("cell-1", rng, kNow);
  auto msg = key.encrypt(as_bytes("hi"), rng);
  auto bytes = msg.encode();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), 4 + 6 + 8 + 12 + 2 + 16);
  EXPECT_EQ(to_hex(ByteView(*bytes).first(4)), "06000000");
  auto back = EncryptedCellMessage::decode(*bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->cell_id, "cell-1");
  EXPECT_EQ(back->generation, 1u);
  EXPECT_EQ(as_chars(*key.decrypt(*back)), "hi");

  EXPECT_EQ(EncryptedCellMessage::decode(Bytes(11)).error().message, "message too short");
  Bytes truncated = *bytes;
  truncated[0] = 200;
  EXPECT_EQ(EncryptedCellMessage::decode(truncated).error().message, "message truncated");
  Bytes bad_utf8 = *bytes;
  bad_utf8[4] = 0xff;
  EXPECT_FALSE(EncryptedCellMessage::decode(bad_utf8).ok());
  Bytes short_payload(bytes->begin(), bytes->begin() + 4 + 6 + 8 + 20);
  EXPECT_FALSE(EncryptedCellMessage::decode(short_payload).ok());
}

}  // namespace
}  // namespace peat::security
