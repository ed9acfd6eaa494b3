#include "peat/transport/ble/peers.hpp"

#include <gtest/gtest.h>

#include "peat/transport/ble/gatt.hpp"

namespace peat::transport::ble {
namespace {

DeviceInfo advertised(std::string name) {
  DeviceInfo d;
  d.address = "11:22:33:44:55:66";
  d.name = std::move(name);
  d.uuids = {std::string(kServiceUuid)};
  return d;
}

TEST(BlePeers, NodeIdFromServiceDataOrName) {
  DeviceInfo d;
  d.service_data[std::string(kServiceUuid16)] = Bytes{0x12, 0x34, 0xAB, 0xCD, 0, 0, 0, 1};
  EXPECT_EQ(peat_node_id(d), 0x1234ABCDu);
  EXPECT_EQ(peat_node_id(advertised("PEAT-0000abcd")), 0xABCDu);
}

TEST(BlePeers, IgnoresForeignOrAnonymousDevices) {
  DeviceInfo foreign = advertised("PEAT-0000ABCD");
  foreign.uuids = {"0000180f-0000-1000-8000-00805f9b34fb"};
  EXPECT_FALSE(peat_node_id(foreign));
  EXPECT_FALSE(peat_node_id(advertised("phone")));
  EXPECT_FALSE(peat_node_id(advertised("PEAT-XYZ12345")));
  EXPECT_FALSE(peat_node_id(advertised("PEAT-123")));
  DeviceInfo short_data;
  short_data.service_data[std::string(kServiceUuid)] = Bytes{1, 2, 3};
  EXPECT_FALSE(peat_node_id(short_data));
}

TEST(BlePeers, SignalQualityFromRssi) {
  EXPECT_EQ(signal_quality_from_rssi(std::nullopt), 75);
  EXPECT_EQ(signal_quality_from_rssi(-100), 0);
  EXPECT_EQ(signal_quality_from_rssi(-120), 0);
  EXPECT_EQ(signal_quality_from_rssi(-70), 50);
  EXPECT_EQ(signal_quality_from_rssi(-40), 100);
  EXPECT_EQ(signal_quality_from_rssi(-10), 100);
}

TEST(BlePeers, HealthAsTheRustAdapter) {
  const Instant t{std::chrono::seconds(3)};
  auto up = link_health(true, 30, t);
  EXPECT_EQ(up.state, ConnectionState::kHealthy);
  EXPECT_EQ(up.rtt_ms, 30u);
  EXPECT_EQ(up.rtt_variance_ms, 10u);
  EXPECT_EQ(up.last_activity, t);
  EXPECT_EQ(link_health(false, 30, t).state, ConnectionState::kDead);
}

TEST(BlePeers, TableTracksAdvertisementsAndManualReachability) {
  PeerTable table;
  DeviceInfo d = advertised("PEAT-0000ABCD");
  d.rssi = -70;
  EXPECT_EQ(table.observe("/dev1", d), PeerId("0000ABCD"));
  EXPECT_TRUE(table.is_reachable("0000ABCD"));
  EXPECT_EQ(table.device_of("0000ABCD"), "/dev1");
  EXPECT_EQ(table.device_with_address("11:22:33:44:55:66"), "/dev1");
  EXPECT_EQ(table.device_with_address("aa:22:33:44:55:66"), std::nullopt);
  EXPECT_EQ(table.signal_quality("0000ABCD"), 50);

  DeviceInfo other = advertised("someone");
  EXPECT_FALSE(table.observe("/dev2", other));
  EXPECT_EQ(table.discovered(), std::vector<PeerId>{"0000ABCD"});

  EXPECT_EQ(table.forget("/dev1"), PeerId("0000ABCD"));
  EXPECT_FALSE(table.is_reachable("0000ABCD"));
  EXPECT_EQ(table.forget("/dev1"), std::nullopt);

  table.add_reachable("00000001");
  EXPECT_TRUE(table.is_reachable("00000001"));
  EXPECT_EQ(table.signal_quality("00000001"), 75);
  table.remove_reachable("00000001");
  EXPECT_FALSE(table.is_reachable("00000001"));
}

TEST(BlePeers, DeviceThatStopsAdvertisingTheServiceIsForgotten) {
  PeerTable table;
  DeviceInfo d = advertised("PEAT-00000002");
  ASSERT_TRUE(table.observe("/dev", d));
  d.uuids.clear();
  EXPECT_FALSE(table.observe("/dev", d));
  EXPECT_FALSE(table.peer_of("/dev"));
}

}  // namespace
}  // namespace peat::transport::ble
