#include "peat/transport/ble.hpp"

#include <gtest/gtest.h>

namespace peat::transport::ble {
namespace {

TEST(Ble, PeerIdConversionsAsRust) {
  EXPECT_EQ(peer_id(0x12345678), "12345678");
  EXPECT_EQ(peer_id(0xABCDEF12), "ABCDEF12");
  EXPECT_EQ(peer_id(0x1), "00000001");
  EXPECT_EQ(*parse_peer_id("12345678"), 0x12345678u);
  EXPECT_EQ(*parse_peer_id("0x12345678"), 0x12345678u);
  EXPECT_EQ(*parse_peer_id("0XABCDEF12"), 0xABCDEF12u);
  EXPECT_EQ(*parse_peer_id("abcdef12"), 0xABCDEF12u);
  EXPECT_EQ(parse_peer_id("not_hex").error().code, "INVALID_PEER_ID");
  EXPECT_EQ(parse_peer_id("").error().code, "INVALID_PEER_ID");
  EXPECT_EQ(parse_peer_id("0x").error().code, "INVALID_PEER_ID");
  EXPECT_EQ(parse_peer_id("123456789").error().code, "INVALID_PEER_ID");
}

TEST(Ble, CapabilitiesPreset) {
  Capabilities c = default_capabilities();
  EXPECT_EQ(c.type, TransportType::kBluetoothLe);
  EXPECT_EQ(c.max_message_size, 512u);
  EXPECT_EQ(c.bandwidth_bps, 250'000u);
  EXPECT_EQ(c.typical_latency_ms, 30u);
  EXPECT_EQ(c.max_range_m, 100u);
  EXPECT_EQ(c.power_cost, 15);
  EXPECT_TRUE(c.reliable);
}

}  // namespace
}  // namespace peat::transport::ble
