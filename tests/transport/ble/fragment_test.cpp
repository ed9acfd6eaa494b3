#include "peat/transport/ble/fragment.hpp"

#include <gtest/gtest.h>

#include "peat/transport/ble/gatt.hpp"

namespace peat::transport::ble {
namespace {

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return b;
}

TEST(BleGatt, CharacteristicUuidsDeriveFromTheServiceUuid) {
  EXPECT_EQ(characteristic_uuid(Characteristic::kSyncData), "a1b20003-e5f6-4a7b-8c9d-0e1f2a3b4c5d");
  EXPECT_EQ(characteristic_uuid(Characteristic::kNodeInfo), "a1b20001-e5f6-4a7b-8c9d-0e1f2a3b4c5d");
  EXPECT_TRUE(is_service_uuid("A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D"));
  EXPECT_TRUE(is_service_uuid("0000a1b2-0000-1000-8000-00805f9b34fb"));
  EXPECT_FALSE(is_service_uuid("a1b20003-e5f6-4a7b-8c9d-0e1f2a3b4c5d"));
}

TEST(BleFragment, HeaderLayoutMatchesPeatBtle) {
  auto frags = fragment(Channel::kSync, 0x1234, Bytes{0xAA, 0xBB}, 23);
  ASSERT_TRUE(frags.ok());
  ASSERT_EQ(frags->size(), 1u);
  EXPECT_EQ((*frags)[0], (Bytes{0x01, 0x12, 0x34, 0x01, 0x00, 0xAA, 0xBB}));
}

TEST(BleFragment, SplitsAtAttMtuMinusEightPayloadBytes) {
  EXPECT_EQ(fragment_payload_size(23), 15u);
  EXPECT_EQ(fragment_payload_size(251), 243u);
  EXPECT_EQ(fragment_payload_size(22), 0u);
  const Bytes msg = pattern(31);
  auto frags = fragment(Channel::kControl, 7, msg, 23);
  ASSERT_TRUE(frags.ok());
  ASSERT_EQ(frags->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const Bytes& f = (*frags)[i];
    EXPECT_LE(f.size(), 20u);
    EXPECT_EQ(f[0], 0x23);
    EXPECT_EQ(f[3], 3);
    EXPECT_EQ(f[4], i);
  }
  EXPECT_EQ((*frags)[2].size(), 5u + 1u);
}

TEST(BleFragment, RejectsTinyMtuAndTooManyFragments) {
  auto small = fragment(Channel::kSync, 0, pattern(4), 20);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().code, "BLE_MTU_TOO_SMALL");
  EXPECT_TRUE(fragment(Channel::kSync, 0, pattern(255 * 15), 23).ok());
  auto big = fragment(Channel::kSync, 0, pattern(255 * 15 + 1), 23);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, "MESSAGE_TOO_LARGE");
}

TEST(BleFragment, EmptyMessageIsOneHeaderOnlyFragment) {
  auto frags = fragment(Channel::kBlobs, 1, Bytes{}, 23);
  ASSERT_TRUE(frags.ok());
  ASSERT_EQ(frags->size(), 1u);
  Reassembler r;
  auto m = r.push((*frags)[0], Instant{});
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->channel, Channel::kBlobs);
  EXPECT_TRUE((*m)->data.empty());
}

TEST(BleFragment, ChannelOpsRoundTripAndUnknownOpsFail) {
  for (Channel c : {Channel::kSync, Channel::kEnrollment, Channel::kBlobs, Channel::kControl}) {
    auto back = channel_for_op(op_for(c));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back.value(), c);
  }
  EXPECT_EQ(channel_for_op(0x02).error().code, "BLE_UNKNOWN_OP");
}

TEST(BleReassembler, ReassemblesOutOfOrderAndInterleavedMessages) {
  const Bytes a = pattern(40);
  const Bytes b = pattern(100);
  auto fa = fragment(Channel::kSync, 1, a, 23).value();
  auto fb = fragment(Channel::kEnrollment, 2, b, 27).value();
  Reassembler r;
  std::vector<ReassembledMessage> done;
  auto feed = [&](const Bytes& f) {
    auto res = r.push(f, Instant{});
    ASSERT_TRUE(res.ok()) << res.error().to_string();
    if (res->has_value()) done.push_back(std::move(**res));
  };
  feed(fa[2]);
  feed(fb[0]);
  feed(fa[0]);
  for (std::size_t i = fb.size(); i-- > 1;) feed(fb[i]);
  EXPECT_EQ(r.pending(), 1u);
  feed(fa[1]);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].channel, Channel::kEnrollment);
  EXPECT_EQ(done[0].seq, 2);
  EXPECT_EQ(done[0].data, b);
  EXPECT_EQ(done[1].channel, Channel::kSync);
  EXPECT_EQ(done[1].data, a);
  EXPECT_EQ(r.pending(), 0u);
}

TEST(BleReassembler, RejectsMalformedFragments) {
  Reassembler r;
  EXPECT_EQ(r.push(Bytes{0x01, 0, 0, 1}, Instant{}).error().code, "BLE_FRAGMENT_TRUNCATED");
  EXPECT_EQ(r.push(Bytes{0x77, 0, 0, 1, 0}, Instant{}).error().code, "BLE_UNKNOWN_OP");
  EXPECT_EQ(r.push(Bytes{0x01, 0, 0, 0, 0}, Instant{}).error().code, "BLE_BAD_FRAGMENT");
  EXPECT_EQ(r.push(Bytes{0x01, 0, 0, 2, 2}, Instant{}).error().code, "BLE_BAD_FRAGMENT");
  EXPECT_EQ(r.pending(), 0u);
}

TEST(BleReassembler, DuplicateAndMismatchedFragments) {
  Reassembler r;
  ASSERT_TRUE(r.push(Bytes{0x01, 0, 5, 3, 0, 1}, Instant{}).ok());
  EXPECT_EQ(r.push(Bytes{0x01, 0, 5, 3, 0, 1}, Instant{}).error().code, "BLE_DUPLICATE_FRAGMENT");
  EXPECT_EQ(r.pending(), 1u);
  EXPECT_EQ(r.push(Bytes{0x01, 0, 5, 4, 1, 2}, Instant{}).error().code, "BLE_FRAGMENT_MISMATCH");
  EXPECT_EQ(r.pending(), 0u);
}

TEST(BleReassembler, BoundsMessageSizeAndPendingCount) {
  ReassemblyLimits limits;
  limits.max_message_size = 20;
  limits.max_pending = 2;
  Reassembler r(limits);
  auto frags = fragment(Channel::kSync, 9, pattern(30), 23).value();
  ASSERT_TRUE(r.push(frags[0], Instant{}).ok());
  EXPECT_EQ(r.push(frags[1], Instant{}).error().code, "BLE_MESSAGE_TOO_LARGE");
  EXPECT_EQ(r.pending(), 0u);
  auto single = fragment(Channel::kSync, 3, pattern(21), 251).value();
  EXPECT_EQ(r.push(single[0], Instant{}).error().code, "BLE_MESSAGE_TOO_LARGE");

  ASSERT_TRUE(r.push(Bytes{0x01, 0, 1, 2, 0}, Instant{}).ok());
  ASSERT_TRUE(r.push(Bytes{0x01, 0, 2, 2, 0}, Instant{}).ok());
  EXPECT_EQ(r.push(Bytes{0x01, 0, 3, 2, 0}, Instant{}).error().code, "BLE_TOO_MANY_PENDING");
  EXPECT_EQ(r.pending(), 2u);
}

TEST(BleReassembler, ExpiresStalePartialMessages) {
  ReassemblyLimits limits;
  limits.timeout = std::chrono::seconds(5);
  Reassembler r(limits);
  const Instant t0{};
  ASSERT_TRUE(r.push(Bytes{0x01, 0, 1, 2, 0, 9}, t0).ok());
  ASSERT_TRUE(r.push(Bytes{0x01, 0, 2, 2, 0, 9}, t0 + std::chrono::seconds(3)).ok());
  EXPECT_EQ(r.expire(t0 + std::chrono::seconds(4)), 0u);
  EXPECT_EQ(r.expire(t0 + std::chrono::seconds(5)), 1u);
  EXPECT_EQ(r.pending(), 1u);
  // The expired message's tail now starts a fresh partial instead of completing anything.
  auto late = r.push(Bytes{0x01, 0, 1, 2, 1, 9}, t0 + std::chrono::seconds(6));
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->has_value());
}

}  // namespace
}  // namespace peat::transport::ble
