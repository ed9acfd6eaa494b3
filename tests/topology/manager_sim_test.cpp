// TopologyManager over the simulated network: parent connection, telemetry flush, retries with
// backoff, lateral limits, failover.
#include "peat/topology/manager.hpp"

#include <gtest/gtest.h>

#include "peat/sim/sim_loop.hpp"
#include "peat/sim/sim_network.hpp"
#include "peat/sim/sim_transport.hpp"

using namespace std::chrono_literals;
using namespace peat::topology;
using peat::beacon::GeoPosition;
using peat::beacon::NodeResources;

namespace {
const GeoPosition kHere{37.7749, -122.4194, std::nullopt};

GeographicBeacon beacon(const std::string& id, HierarchyLevel level, double dlat = 0.001) {
  auto b = GeographicBeacon::make(id, {kHere.lat + dlat, kHere.lon, std::nullopt}, level, 0);
  b.can_parent = true;
  b.mobility = peat::beacon::NodeMobility::kStatic;
  b.resources = NodeResources{4, 4096, 100, 10, 10, std::nullopt};
  return b;
}

struct Fixture {
  explicit Fixture(TopologyConfig config = {}, std::vector<std::string> others = {"parent"})
      : net(loop, 5), builder(config, "child", kHere, HierarchyLevel::kSquad) {
    net.add_node("child");
    for (const auto& o : others) {
      net.add_node(o);
      peers[o] = std::make_unique<peat::sim::SimTransport>(net, o);
      peat::transport::TransportEvents ev;
      ev.on_message = [this, o](const std::string&, peat::transport::Channel, peat::Bytes m) {
        received[o].push_back(peat::routing::decode_packet(m).value());
      };
      peers[o]->set_events(ev);
    }
    child = std::make_unique<peat::sim::SimTransport>(net, "child");
    manager = std::make_unique<TopologyManager>(loop, *child, builder, nullptr, &metrics);
  }
  void start_peer(const std::string& id) { EXPECT_TRUE(peers[id]->start().ok()); }
  peat::Status start() {
    return manager->start([this] { return nearby; });
  }

  peat::sim::SimLoop loop;
  peat::sim::SimNetwork net;
  TopologyBuilder builder;
  InMemoryMetrics metrics;
  std::map<std::string, std::unique_ptr<peat::sim::SimTransport>> peers;
  std::unique_ptr<peat::sim::SimTransport> child;
  std::unique_ptr<TopologyManager> manager;
  std::vector<GeographicBeacon> nearby;
  std::map<std::string, std::vector<peat::routing::DataPacket>> received;
  peat::SeededRng rng{9};
};
}  // namespace

TEST(TopologyManagerTest, ConnectsToParentAndFlushesBufferedTelemetry) {
  Fixture f;
  f.start_peer("parent");
  f.nearby = {beacon("parent", HierarchyLevel::kPlatoon)};
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(f.manager
                    ->send_telemetry(
                        peat::routing::DataPacket::telemetry(f.rng, "child", {std::uint8_t(i)}))
                    .ok());
  }
  EXPECT_EQ(f.manager->buffer_size(), 2u);
  ASSERT_TRUE(f.start().ok());
  ASSERT_TRUE(f.loop.run_until([&] { return f.manager->is_connected_to_peer(); }, 5s));
  f.loop.run_for(100ms);
  EXPECT_EQ(f.manager->selected_peer_id(), "parent");
  EXPECT_EQ(f.manager->buffer_size(), 0u);
  ASSERT_EQ(f.received["parent"].size(), 2u);
  EXPECT_EQ(f.received["parent"][1].payload, peat::Bytes{1});
  // Once connected, telemetry goes out immediately.
  ASSERT_TRUE(
      f.manager->send_telemetry(peat::routing::DataPacket::telemetry(f.rng, "child", {7})).ok());
  f.loop.run_for(100ms);
  EXPECT_EQ(f.received["parent"].size(), 3u);
  auto s = f.metrics.snapshot();
  EXPECT_TRUE(s.parent_connected);
  EXPECT_EQ(s.parent_id, "parent");
  EXPECT_EQ(s.telemetry_sent_total, 3u);
  EXPECT_EQ(s.telemetry_buffered_total, 3u);
  EXPECT_EQ(s.peer_selected_count, 1u);
  EXPECT_TRUE(s.last_connection_success.has_value());
  f.manager->stop();
  f.loop.run_for(100ms);
  EXPECT_FALSE(f.peers["parent"]->is_connected("child"));
}

TEST(TopologyManagerTest, RetriesWithBackoffThenGivesUp) {
  Fixture f;  // "parent" never starts: every dial fails
  f.nearby = {beacon("parent", HierarchyLevel::kPlatoon)};
  const auto t0 = f.loop.now();
  ASSERT_TRUE(f.start().ok());
  auto retries_at = [&](double seconds) {
    f.loop.run_until(
        t0 + std::chrono::duration_cast<peat::Duration>(std::chrono::duration<double>(seconds)));
    return f.metrics.snapshot().retry_attempts_total;
  };
  // A dial to a silent peer fails ~3.5 s after it starts (sim connect timeout, checked on its
  // retransmission timer). Then retries follow after 1 s, 2 s and 4 s of backoff: failures are
  // seen at ~8 s, ~13.5 s and ~21 s, and there is no fourth retry.
  EXPECT_EQ(retries_at(7.0), 0u);
  EXPECT_EQ(retries_at(8.5), 1u);
  EXPECT_EQ(retries_at(13.0), 1u);
  EXPECT_EQ(retries_at(14.0), 2u);
  EXPECT_EQ(retries_at(20.0), 2u);
  EXPECT_EQ(retries_at(21.5), 3u);
  EXPECT_EQ(retries_at(60), 3u);
  EXPECT_EQ(f.manager->retry_count("parent"), 0u);  // gave up
  EXPECT_FALSE(f.manager->is_connected_to_peer());
  EXPECT_EQ(f.metrics.snapshot().last_failover_retry_attempts, 3u);
}

TEST(TopologyManagerTest, TelemetryBufferFifoAndDisabled) {
  TopologyConfig c;
  c.max_telemetry_buffer_size = 3;
  Fixture f(c);
  f.start_peer("parent");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(f.manager
                    ->send_telemetry(
                        peat::routing::DataPacket::telemetry(f.rng, "child", {std::uint8_t(i)}))
                    .ok());
  }
  EXPECT_EQ(f.manager->buffer_size(), 3u);
  f.nearby = {beacon("parent", HierarchyLevel::kPlatoon)};
  ASSERT_TRUE(f.start().ok());
  f.loop.run_for(2s);
  ASSERT_EQ(f.received["parent"].size(), 3u);
  EXPECT_EQ(f.received["parent"][0].payload, peat::Bytes{2});  // the two oldest were dropped

  TopologyConfig off;
  off.max_telemetry_buffer_size = 0;
  Fixture g(off);
  auto r = g.manager->send_telemetry(peat::routing::DataPacket::telemetry(g.rng, "child", {}));
  EXPECT_EQ(r.error().code, "BUFFERING_DISABLED");
}

TEST(TopologyManagerTest, LateralLimitSkipsWithoutStoppingEventHandling) {
  TopologyConfig c;
  c.max_lateral_connections = 1;
  Fixture f(c, {"lat-a", "lat-b", "parent"});
  for (auto id : {"lat-a", "lat-b", "parent"}) f.start_peer(id);
  f.nearby = {beacon("lat-a", HierarchyLevel::kSquad), beacon("lat-b", HierarchyLevel::kSquad)};
  ASSERT_TRUE(f.start().ok());
  f.loop.run_for(1s);
  EXPECT_EQ(f.manager->lateral_peer_count(), 1u);
  // A later event (a parent appearing) is still handled.
  f.manager->handle_event(
      event::PeerSelected{"parent", beacon("parent", HierarchyLevel::kPlatoon)});
  f.loop.run_for(1s);
  EXPECT_TRUE(f.manager->is_connected_to_peer());
  EXPECT_EQ(f.manager->lateral_peer_ids(), std::vector<std::string>{"lat-a"});
  f.manager->handle_event(event::LateralPeerLost{"lat-a"});
  f.loop.run_for(1s);
  EXPECT_EQ(f.manager->lateral_peer_count(), 0u);
  EXPECT_FALSE(f.child->is_connected("lat-a"));
}

TEST(TopologyManagerTest, FailoverToAnotherParent) {
  TopologyConfig c;
  c.reevaluation_interval = 1s;
  c.peer_timeout = 2s;
  Fixture f(c, {"p1", "p2"});
  f.start_peer("p1");
  f.start_peer("p2");
  f.nearby = {beacon("p1", HierarchyLevel::kPlatoon, 0.0005),
              beacon("p2", HierarchyLevel::kPlatoon, 0.02)};
  ASSERT_TRUE(f.start().ok());
  ASSERT_TRUE(f.loop.run_until([&] { return f.manager->is_connected_to_peer(); }, 5s));
  EXPECT_EQ(f.manager->selected_peer_id(), "p1");
  // p1's beacon disappears: after peer_timeout the builder declares it lost and picks p2.
  f.nearby = {beacon("p2", HierarchyLevel::kPlatoon, 0.02)};
  ASSERT_TRUE(f.loop.run_until([&] { return f.manager->selected_peer_id() == "p2"; }, 10s));
  ASSERT_TRUE(f.loop.run_until([&] { return f.manager->is_connected_to_peer(); }, 5s));
  auto s = f.metrics.snapshot();
  EXPECT_EQ(s.peer_lost_count, 1u);
  EXPECT_EQ(s.peer_selected_count, 2u);
  EXPECT_TRUE(s.last_failover_duration.has_value());
  EXPECT_FALSE(f.child->is_connected("p1"));
}
