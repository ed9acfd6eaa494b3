#include "peat/transport/pace.hpp"

#include <gtest/gtest.h>

namespace peat::transport {
namespace {

PacePolicy policy() {
  return {"tactical", {"quic-eth0"}, {"ble-hci0"}, {"lora-915"}, {"sat"}};
}

TEST(Pace, OrderLevelsAndTiers) {
  auto p = policy();
  EXPECT_EQ(p.ordered(), (std::vector<std::string>{"quic-eth0", "ble-hci0", "lora-915", "sat"}));
  EXPECT_EQ(p.current_level({"quic-eth0", "ble-hci0"}), PaceLevel::kPrimary);
  EXPECT_EQ(p.current_level({"ble-hci0"}), PaceLevel::kAlternate);
  EXPECT_EQ(p.current_level({"sat"}), PaceLevel::kEmergency);
  EXPECT_EQ(p.current_level({}), PaceLevel::kNone);
  EXPECT_EQ(p.at_level(PaceLevel::kAlternate), (std::vector<std::string>{"quic-eth0", "ble-hci0"}));
  EXPECT_EQ(p.at_level(PaceLevel::kNone).size(), 4u);
  EXPECT_EQ(p.level_of("lora-915"), PaceLevel::kContingency);
  EXPECT_EQ(p.level_of("nope"), PaceLevel::kNone);
  EXPECT_STREQ(to_string(PaceLevel::kContingency), "CONTINGENCY");
  EXPECT_LT(PaceLevel::kPrimary, PaceLevel::kNone);
}

TEST(Pace, RequirementsAndScore) {
  Capabilities ble{TransportType::kBluetoothLe, true, true, 512, 250'000, 30, 15, 100};
  MessageRequirements req;
  req.message_size = 600;
  EXPECT_FALSE(meets_requirements(ble, req));
  req.message_size = 100;
  EXPECT_TRUE(meets_requirements(ble, req));
  req.min_bandwidth_bps = 1'000'000;
  EXPECT_FALSE(meets_requirements(ble, req));
  Capabilities udp{TransportType::kUdpBypass, false, false, 0, 0, 1, 0, 0};
  MessageRequirements reliable;
  reliable.reliable = true;
  EXPECT_FALSE(meets_requirements(udp, reliable));
  EXPECT_EQ(estimate_delivery_ms(ble, 25'000), 130u);
  MessageRequirements high;
  high.priority = MessagePriority::kHigh;
  high.power_sensitive = true;
  EXPECT_EQ(score(ble, high, 20), 100 + 20 - 15 + 20);
  EXPECT_EQ(score(ble, {}), 100);
}

}  // namespace
}  // namespace peat::transport
