#include "peat/doc/sync/state.hpp"

#include <gtest/gtest.h>

#include "doc/sync/test_vectors.hpp"

namespace peat::doc::sync {
namespace {

using testing::hash_of;
using testing::hex;

TEST(SyncState, EncodesSharedHeadsOnly) {
  State s;
  s.shared_heads = {hash_of(testing::kChangeHashHex)};
  s.last_sent_heads = s.shared_heads;
  s.in_flight = true;
  s.sent_hashes.insert(s.shared_heads[0]);
  EXPECT_EQ(to_hex(encode_state(s)), "4301" + testing::kChangeHashHex);
  EXPECT_EQ(to_hex(encode_state(State{})), "4300");
}

TEST(SyncState, DecodeSetsTheirHaveToEmptyList) {
  auto s = decode_state(hex("4301" + testing::kChangeHashHex));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->shared_heads.size(), 1u);
  ASSERT_TRUE(s->their_have.has_value());
  EXPECT_TRUE(s->their_have->empty());
  EXPECT_FALSE(s->their_heads.has_value());
  EXPECT_FALSE(s->their_need.has_value());
  EXPECT_FALSE(s->in_flight);
  EXPECT_FALSE(s->have_responded);
  EXPECT_TRUE(s->sent_hashes.empty());
  EXPECT_FALSE(s->their_capabilities.has_value());
}

TEST(SyncState, DecodeRejectsBadInput) {
  for (const char* bad : {"", "42", "4301", "43", "4380", "43ffffffffff0f"}) {
    auto s = decode_state(hex(bad));
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().code, "INVALID_SYNC_STATE");
  }
}

}  // namespace
}  // namespace peat::doc::sync
