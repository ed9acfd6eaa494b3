#include "peat/sync/wire.hpp"

#include <gtest/gtest.h>

#include "peat/sync/sync_policy.hpp"
#include "peat/sync/token_bucket.hpp"

namespace peat::sync {
namespace {

Bytes B(std::initializer_list<int> v) {
  Bytes b;
  for (int x : v) b.push_back(static_cast<std::uint8_t>(x));
  return b;
}

TEST(SyncWire, FrameBytesMatchTheRustLayout) {
  auto f = encode_frame("a:b", MessageType::kDeltaSync, B({0x42, 0x00}));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, B({0x00, 0x03, 'a', ':', 'b', 0x00, 0x00, 0x00, 0x00, 0x02, 0x42, 0x00}));
  auto d = decode_frame(*f);
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  EXPECT_EQ(d->key, "a:b");
  EXPECT_EQ(d->type, MessageType::kDeltaSync);
  EXPECT_EQ(d->payload, B({0x42, 0x00}));
}

TEST(SyncWire, FrameDecoderRejectsBadInput) {
  auto good = *encode_frame("k", MessageType::kStateSnapshot, B({1, 2, 3}));
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto r = decode_frame(ByteView(good).first(n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().code, "SYNC_DECODE");
  }
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_NE(decode_frame(trailing).error().message.find("trailing"), std::string::npos);
  // Unknown type 0x03, never-sent 0x02 and 0x0A.
  for (int t : {0x02, 0x03, 0x0A, 0x13, 0xFF}) {
    Bytes bad = good;
    bad[3] = static_cast<std::uint8_t>(t);
    auto r = decode_frame(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("unknown message type"), std::string::npos);
  }
  // Invalid UTF-8 key (lone continuation byte; overlong encoding).
  EXPECT_FALSE(decode_frame(B({0x00, 0x01, 0x80, 0x00, 0, 0, 0, 0})).ok());
  EXPECT_FALSE(decode_frame(B({0x00, 0x02, 0xC0, 0x80, 0x00, 0, 0, 0, 0})).ok());
  // Payload over the cap is refused before anything is allocated.
  auto big = decode_frame(B({0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF}), 1024);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("exceeds the cap"), std::string::npos);
}

TEST(SyncWire, FrameStreamDecodesWholeFramesOnly) {
  Bytes stream = *encode_frame("x", MessageType::kDeltaSync, B({9}));
  Bytes second = *encode_frame("y", MessageType::kTombstoneAck, {});
  stream.insert(stream.end(), second.begin(), second.end());
  stream.push_back(0x00);  // start of a third frame
  std::size_t used = 0;
  auto frames = decode_frames(stream, used);
  ASSERT_TRUE(frames.ok());
  ASSERT_EQ(frames->size(), 2u);
  EXPECT_EQ((*frames)[1].key, "y");
  EXPECT_EQ(used, stream.size() - 1);
}

TEST(SyncWire, TombstoneLayout) {
  TombstoneMessage t{"tracks", "t1", 0x0102, 7, "n1", std::nullopt, PropagationDirection::kUpOnly};
  auto e = encode_tombstone(t);
  ASSERT_TRUE(e.ok());
  Bytes want = B({0, 6, 't', 'r', 'a', 'c', 'k', 's', 0, 2, 't', '1', 0,   0,   0, 0, 0, 0,
                  1, 2, 0,   0,   0,   0,   0,   0,   0, 7, 0,   2,   'n', '1', 0, 0, 1});
  EXPECT_EQ(*e, want);
  auto d = decode_tombstone(*e);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, t);
  // Empty reason decodes as none; a reason round-trips.
  t.reason = "gone";
  EXPECT_EQ(*decode_tombstone(*encode_tombstone(t)), t);
  t.reason = "";
  EXPECT_EQ(decode_tombstone(*encode_tombstone(t))->reason, std::nullopt);
  Bytes bad_dir = want;
  bad_dir.back() = 4;
  EXPECT_NE(decode_tombstone(bad_dir).error().message.find("direction"), std::string::npos);
  for (std::size_t n = 0; n < want.size(); ++n) {
    EXPECT_FALSE(decode_tombstone(ByteView(want).first(n)).ok());
  }
}

TEST(SyncWire, TombstoneBatchRoundTripAndCountCheck) {
  std::vector<TombstoneMessage> ts = {{"nodes", "a", 1, 2, "x", "r", {}},
                                      {"cells", "b", 3, 4, "y", std::nullopt, {}}};
  auto e = encode_tombstone_batch(ts);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*decode_tombstone_batch(*e), ts);
  EXPECT_EQ(decode_tombstone_batch(*encode_tombstone_batch({}))->size(), 0u);
  auto huge = decode_tombstone_batch(B({0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0}));
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.error().message.find("more than its size"), std::string::npos);
}

TEST(SyncWire, SyncBatchLayoutAndEntryRules) {
  SyncBatch b{0x0102030405060708ull, 99, 5, {Frame{"k", MessageType::kTombstoneAck, {}}}};
  auto e = encode_sync_batch(b);
  ASSERT_TRUE(e.ok());
  Bytes want = B({1,  2, 3, 4, 5, 6, 7, 8, 0,   0,    0, 0, 0, 0, 0,
                  99, 5, 0, 0, 0, 1, 0, 1, 'k', 0x06, 0, 0, 0, 0});
  EXPECT_EQ(*e, want);
  EXPECT_EQ(*decode_sync_batch(*e), b);
  EXPECT_FALSE(decode_sync_batch(ByteView(want).first(20)).ok());
  // A negentropy entry fails the whole batch, as in the Rust decoder.
  Bytes bad = want;
  bad[24] = 0x08;
  EXPECT_FALSE(decode_sync_batch(bad).ok());
  SyncBatch neg{0, 0, 1, {Frame{"_negentropy", MessageType::kNegentropyInit, {}}}};
  EXPECT_EQ(encode_sync_batch(neg).error().code, "INVALID_ARGUMENT");
  // The digest ignores id, time and ttl.
  SyncBatch other = b;
  other.batch_id = 1;
  other.ttl = 0;
  other.created_at_ms = 5;
  EXPECT_EQ(batch_content_digest(b), batch_content_digest(other));
  other.entries[0].key = "j";
  EXPECT_NE(batch_content_digest(b), batch_content_digest(other));
}

TEST(SyncWire, NeedList) {
  NegId a{};
  a[0] = 1;
  NegId c{};
  c[31] = 9;
  auto e = encode_need_list({a, c});
  EXPECT_EQ(e.size(), 4u + 64u);
  EXPECT_EQ(*decode_need_list(e), (std::vector<NegId>{a, c}));
  e.pop_back();
  EXPECT_FALSE(decode_need_list(e).ok());
  EXPECT_FALSE(decode_need_list(B({0, 0})).ok());
}

TEST(SyncWire, DeclinedFrame) {
  auto f =
      encode_frame("notes:1", MessageType::kDeclined, encode_declined(DeclineReason::kEvicted));
  ASSERT_TRUE(f.ok());
  // u16 key length, "notes:1", type 0x12, u32 payload length 1, reason 0x01.
  EXPECT_EQ(*f, B({0x00, 0x07, 'n', 'o', 't', 'e', 's', ':', '1', 0x12, 0, 0, 0, 1, 0x01}));
  auto d = decode_frame(*f);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->type, MessageType::kDeclined);
  EXPECT_EQ(*decode_declined(d->payload), DeclineReason::kEvicted);
  EXPECT_EQ(decode_declined(B({})).error().code, "SYNC_DECODE");
  EXPECT_FALSE(decode_declined(B({0x02})).ok());
  EXPECT_FALSE(decode_declined(B({0x01, 0x00})).ok());
  // Not a batch entry type.
  SyncBatch b;
  b.entries.push_back(Frame{"k", MessageType::kDeclined, encode_declined(DeclineReason::kEvicted)});
  EXPECT_FALSE(encode_sync_batch(b).ok());
}

TEST(SyncPolicy, DefaultsAndOverrides) {
  SyncPolicyRegistry r;
  EXPECT_EQ(r.mode("tracks").kind, SyncModeKind::kLatestOnly);
  EXPECT_EQ(r.mode("track_history"), SyncMode::windowed(std::chrono::seconds(300)));
  EXPECT_EQ(r.mode("alerts").kind, SyncModeKind::kFullHistory);
  EXPECT_EQ(r.qos("alerts"), QosClass::kCritical);
  EXPECT_EQ(r.direction("cells"), PropagationDirection::kUpOnly);
  EXPECT_EQ(r.direction("commands"), PropagationDirection::kDownOnly);
  r.set_mode("tracks", SyncMode::full_history());
  r.set_qos("notes", QosClass::kBulk);
  EXPECT_EQ(r.mode("tracks").kind, SyncModeKind::kFullHistory);
  EXPECT_EQ(r.qos("notes"), QosClass::kBulk);
  EXPECT_EQ(collection_of("a:b:c"), "a");
  EXPECT_EQ(collection_of("plain"), "plain");
}

TEST(TokenBucket, RefillsAtRateAndAllowsOversizeWhenFull) {
  Instant t0{};
  TokenBucket b(1000, 500, t0);
  EXPECT_TRUE(b.try_take(500, t0));
  EXPECT_FALSE(b.try_take(100, t0));
  EXPECT_EQ(b.wait_for(100, t0) / std::chrono::milliseconds(1), 100);
  EXPECT_TRUE(b.try_take(100, t0 + std::chrono::milliseconds(100)));
  // Oversize message: waits for a full bucket, then goes into debt.
  Instant t1 = t0 + std::chrono::seconds(10);
  EXPECT_TRUE(b.try_take(2000, t1));
  EXPECT_FALSE(b.try_take(1, t1 + std::chrono::milliseconds(1000)));
  TokenBucket unlimited(0, 0, t0);
  EXPECT_TRUE(unlimited.try_take(1u << 30, t0));
}

}  // namespace
}  // namespace peat::sync
