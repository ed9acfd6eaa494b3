// The bridge and the OTA service over real UDP on 127.0.0.1, with the simulated device behind a
// seeded fault proxy.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "lite/udp_support.hpp"
#include "peat/lite/bridge.hpp"
#include "peat/lite/ota.hpp"

namespace peat::lite {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::SimDeviceConfig;
using testing::UdpFaultProxy;
using testing::UdpSimDevice;

const PeerId kDevicePeer = "lite-4D355443";

Bytes firmware_of(std::size_t size, std::uint64_t seed) {
  SeededRng rng(seed);
  Bytes b(size);
  rng.fill(b);
  return b;
}

security::DeviceKeypair key_from(std::uint64_t seed) {
  SeededRng rng(seed);
  return security::DeviceKeypair::generate(rng);
}

class BridgeUdpTest : public ::testing::Test {
 protected:
  void start(LiteConfig config = {}, SimDeviceConfig device_config = {}) {
    config.node_id = 0x0BADF00D;
    config.broadcast_target.reset();
    port = make_udp_port(
        loop, {.bind_address = "127.0.0.1", .port = 0, .broadcast = false, .reuse_address = false});
    LiteEvents events;
    events.on_peer_connected = [this](const PeerId& p, std::uint16_t c) { connected[p] = c; };
    events.on_peer_disconnected = [this](const PeerId& p, transport::DisconnectReason r) {
      disconnected[p] = r;
    };
    events.on_document = [this](const std::string& c, const std::string& id, const std::string& j) {
      docs[{c, id}] = json::parse(j);
    };
    events.on_document_deleted = [this](const std::string& c, const std::string& id) {
      deleted.push_back(c + "/" + id);
    };
    events.on_query = [this](const PeerId& p, const QueryRequest& q) {
      queries.push_back(p + ":" + q.collection);
      return std::vector<std::pair<std::string, std::string>>{
          {"a-1", R"({"message":"hold position"})"}, {"a-2", R"({"message":"RTB"})"}};
    };
    bridge = std::make_unique<LiteBridge>(loop, *port, config, events);
    ASSERT_TRUE(bridge->start().ok());
    device = std::make_unique<UdpSimDevice>(loop, device_config);
    proxy = std::make_unique<UdpFaultProxy>(loop, device->address(), port->local_address(), 1234);
    device->send(proxy->address(), device->device().announce());
    ASSERT_TRUE(loop.run_until([&] { return bridge->peer(kDevicePeer).has_value(); }, 5s));
  }
  // Sends a device packet through the proxy and runs until the bridge has received it.
  void device_sends(const Bytes& packet) {
    auto before = bridge->stats().received + bridge->stats().invalid_dropped;
    device->send(proxy->address(), packet);
    ASSERT_TRUE(loop.run_until(
        [&] { return bridge->stats().received + bridge->stats().invalid_dropped > before; }, 5s));
  }
  std::string run_ota(Duration limit = 30s) {
    loop.run_until(
        [&] {
          auto st = ota->status(kDevicePeer);
          return st && (st->state == "complete" || st->state.rfind("failed", 0) == 0);
        },
        limit);
    return ota->status(kDevicePeer)->state;
  }
  void TearDown() override {
    ota.reset();
    if (bridge) bridge->stop();
  }

  runtime::IoLoop loop;
  std::unique_ptr<DatagramPort> port;
  std::unique_ptr<LiteBridge> bridge;
  std::unique_ptr<UdpSimDevice> device;
  std::unique_ptr<UdpFaultProxy> proxy;
  std::unique_ptr<OtaService> ota;
  std::map<PeerId, std::uint16_t> connected;
  std::map<PeerId, transport::DisconnectReason> disconnected;
  std::map<std::pair<std::string, std::string>, json> docs;
  std::vector<std::string> deleted;
  std::vector<std::string> queries;
};

TEST_F(BridgeUdpTest, AnnounceCreatesPeerWithCapabilities) {
  start();
  EXPECT_EQ(connected.at(kDevicePeer), caps::kLite);
  auto p = bridge->peer(kDevicePeer);
  EXPECT_EQ(p->node_id, 0x4D355443u);
  EXPECT_EQ(p->address, proxy->address());
  EXPECT_EQ(bridge->health(kDevicePeer)->state, transport::ConnectionState::kHealthy);
  device_sends(device->device().heartbeat());
  EXPECT_EQ(bridge->peer(kDevicePeer)->message_count, 2u);
  EXPECT_EQ(connected.size(), 1u);
}

TEST_F(BridgeUdpTest, TelemetryBecomesDocumentsWithoutTtlSuffix) {
  start();
  LwwRegister reading{1700000000000, 0x4D355443, Bytes{0xE7, 0x00, 0x00, 0x00}};
  device_sends(device->device().data({CrdtType::kLwwRegister, *encode_lww(reading), 300}));
  auto& doc = docs.at({"lite_sensors", kDevicePeer});
  EXPECT_EQ(doc["type"], "lww_register");
  EXPECT_EQ(doc["value_i32"], 231);
  EXPECT_EQ(doc["value_hex"], "e7000000");  // neither length prefix nor TTL in the value
  EXPECT_EQ(doc["ttl_secs"], 300);
  EXPECT_EQ(doc["source_node"], "4D355443");

  device_sends(device->device().document(
      {0, "lite_events", "evt-1", 1700000000001, to_bytes(R"({"button":"A"})")}));
  EXPECT_EQ(docs.at({"lite_events", "evt-1"})["button"], "A");
  device_sends(device->device().document({0, "not_inbound", "x", 1, to_bytes("{}")}));
  EXPECT_EQ(bridge->stats().filtered, 1u);
  EXPECT_FALSE(docs.count({"not_inbound", "x"}));
  device_sends(device->device().document({kDocFlagTombstone, "lite_events", "evt-1", 2, {}}));
  EXPECT_EQ(deleted, (std::vector<std::string>{"lite_events/evt-1"}));

  device_sends(to_bytes("definitely not a Peat-Lite packet"));
  EXPECT_EQ(bridge->stats().invalid_dropped, 1u);
  device_sends(device->device().data({CrdtType::kGCounter, Bytes{1, 2}, {}}));
  EXPECT_EQ(bridge->stats().payload_errors, 1u);
}

TEST_F(BridgeUdpTest, QueriesAreAnsweredAndCommandsReachTheDevice) {
  start();
  device_sends(device->device().query({CrdtType::kLwwRegister, "alerts", std::nullopt}));
  ASSERT_TRUE(loop.run_until([&] { return device->device().received_commands().size() == 2; }, 5s));
  EXPECT_EQ(queries, (std::vector<std::string>{kDevicePeer + ":alerts"}));
  EXPECT_EQ(bridge->stats().queries_answered, 2u);
  const auto& answer = device->device().received_commands()[0];
  EXPECT_EQ(answer.header.type, MessageType::kData);
  EXPECT_EQ(answer.header.node_id, 0x0BADF00Du);
  auto data = decode_data(answer.header.flags, answer.payload);
  auto reg = decode_lww(data->crdt);
  EXPECT_EQ(std::string(reg->value.begin(), reg->value.end()), R"({"message":"hold position"})");

  ASSERT_TRUE(bridge->send_document(kDevicePeer, "alerts", "a-3", R"({"message":"go"})").ok());
  ASSERT_TRUE(bridge
                  ->send_document(kDevicePeer, "alerts", "a-4", R"({"message":"doc"})",
                                  CommandEncoding::kDocument)
                  .ok());
  ASSERT_TRUE(bridge->broadcast_document("beacons", "b-1", R"({"node_counts":{"A":1}})").ok());
  EXPECT_EQ(bridge->broadcast_document("secrets", "s", "{}").error().code, "FILTERED");
  EXPECT_EQ(bridge->send_document("lite-00000001", "alerts", "x", "{}").error().code,
            "PEER_NOT_FOUND");
  EXPECT_EQ(bridge->send_document(kDevicePeer, "alerts", "x", "not json").error().code,
            "INVALID_JSON");
  EXPECT_EQ(bridge
                ->send_document(kDevicePeer, "alerts", "x",
                                json{{"message", std::string(600, 'x')}}.dump())
                .error()
                .code,
            "MESSAGE_TOO_LARGE");
  ASSERT_TRUE(loop.run_until([&] { return device->device().received_commands().size() == 5; }, 5s));
  const auto& cmds = device->device().received_commands();
  auto env = decode_document(cmds[3].payload);
  EXPECT_EQ(cmds[3].header.type, MessageType::kDocument);
  EXPECT_EQ(env->collection, "alerts");
  EXPECT_EQ(env->doc_id, "a-4");
  EXPECT_EQ(decode_data(cmds[4].header.flags, cmds[4].payload)->crdt_type, CrdtType::kGCounter);
  // Sequence numbers of the node's packets increase.
  EXPECT_LT(cmds[2].header.seq_num, cmds[3].header.seq_num);
}

TEST_F(BridgeUdpTest, LeaveAndSilenceRemovePeers) {
  LiteConfig config;
  config.peer_timeout = 200ms;
  config.sweep_interval = 50ms;
  start(config);
  device_sends(device->device().leave());
  EXPECT_EQ(disconnected.at(kDevicePeer), transport::DisconnectReason::kRemoteClosed);
  EXPECT_FALSE(bridge->peer(kDevicePeer));
  disconnected.clear();
  device_sends(device->device().heartbeat());
  EXPECT_TRUE(bridge->peer(kDevicePeer));
  ASSERT_TRUE(loop.run_until([&] { return disconnected.count(kDevicePeer) == 1; }, 10s));
  EXPECT_EQ(disconnected.at(kDevicePeer), transport::DisconnectReason::kTimeout);
  EXPECT_TRUE(bridge->peers().empty());
}

TEST_F(BridgeUdpTest, OtaPushSurvivesDropsAndDuplicates) {
  auto key = key_from(21);
  start({}, {.ota_pubkey = key.public_key_bytes()});
  ota = std::make_unique<OtaService>(loop, *bridge,
                                     OtaConfig{.retransmit_after = 40ms, .max_retries = 10}, key);
  proxy->set_faults(0.1, 0.1);
  auto image = firmware_of(30000, 5);  // 67 chunks
  auto started = ota->start(kDevicePeer, std::string(image.begin(), image.end()), "4.5.6");
  ASSERT_TRUE(started.ok()) << started.error().to_string();
  EXPECT_EQ(started->total_chunks, 67);
  EXPECT_EQ(run_ota(), "complete");
  EXPECT_EQ(device->device().slot(), image);
  EXPECT_EQ(device->device().installed_version(), "4.5.6");
  EXPECT_GT(proxy->dropped(), 0u);
  EXPECT_GT(proxy->duplicated(), 0u);
  EXPECT_EQ(ota->status(kDevicePeer)->progress_percent, 100);
}

TEST_F(BridgeUdpTest, OtaBadSignatureIsReportedAsFailure) {
  start({}, {.ota_pubkey = key_from(30).public_key_bytes()});
  ota = std::make_unique<OtaService>(loop, *bridge, OtaConfig{.retransmit_after = 40ms},
                                     key_from(31));
  ASSERT_TRUE(ota->start(kDevicePeer, std::string(5000, 'x'), "1").ok());
  EXPECT_EQ(run_ota(), "failed: signature invalid");
  EXPECT_TRUE(device->device().slot().empty());
}

TEST_F(BridgeUdpTest, OtaResumesAfterTheLinkComesBack) {
  start();
  ota = std::make_unique<OtaService>(loop, *bridge,
                                     OtaConfig{.retransmit_after = 20ms, .max_retries = 3});
  auto image = firmware_of(40 * 448, 6);
  std::string fw(image.begin(), image.end());
  ASSERT_TRUE(ota->start(kDevicePeer, fw, "5").ok());
  ASSERT_TRUE(loop.run_until([&] { return ota->status(kDevicePeer)->chunks_sent >= 10; }, 10s));
  proxy->set_blackhole(true);
  auto state = run_ota();
  EXPECT_EQ(state.rfind("failed: chunk", 0), 0u) << state;
  auto written = device->device().chunks_written();
  EXPECT_GE(written, 10u);
  EXPECT_LT(written, 40u);

  proxy->set_blackhole(false);
  auto again = ota->start(kDevicePeer, fw, "5");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->session_id, 2);
  EXPECT_EQ(run_ota(), "complete");
  EXPECT_EQ(device->device().last_resume_chunk(), written);
  EXPECT_EQ(device->device().chunks_written(), 40u);  // no chunk written twice
  EXPECT_EQ(device->device().slot(), image);
}

TEST_F(BridgeUdpTest, OtaStartErrors) {
  start();
  ota = std::make_unique<OtaService>(loop, *bridge);
  EXPECT_EQ(ota->start("lite-00000001", "x", "1").error().code, "NOT_FOUND");
  EXPECT_EQ(ota->start(kDevicePeer, "", "1").error().code, "BAD_REQUEST");
  EXPECT_FALSE(ota->status("lite-00000001").has_value());
  EXPECT_EQ(ota->abort(kDevicePeer).error().code, "NOT_FOUND");
  ASSERT_TRUE(ota->start(kDevicePeer, "abc", "1").ok());
  ASSERT_TRUE(ota->abort(kDevicePeer).ok());
  EXPECT_EQ(ota->status(kDevicePeer)->state, "failed: cancelled");
}

}  // namespace
}  // namespace peat::lite

namespace peat::lite {
namespace {

TEST(UdpPort, BindConflictIsReported) {
  runtime::IoLoop loop;
  auto first = make_udp_port(
      loop, {.bind_address = "127.0.0.1", .port = 0, .broadcast = false, .reuse_address = false});
  ASSERT_TRUE(first->open([](const PeerAddress&, ByteView) {}).ok());
  auto taken = first->local_address().port;
  auto second = make_udp_port(
      loop,
      {.bind_address = "127.0.0.1", .port = taken, .broadcast = false, .reuse_address = false});
  auto st = second->open([](const PeerAddress&, ByteView) {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "BIND_FAILED");
  EXPECT_EQ(second->send_to(first->local_address(), Bytes{1}).error().code, "NOT_STARTED");
  auto bad = make_udp_port(loop, {.bind_address = "not-an-ip"});
  EXPECT_EQ(bad->open([](const PeerAddress&, ByteView) {}).error().code, "BIND_FAILED");
}

}  // namespace
}  // namespace peat::lite
