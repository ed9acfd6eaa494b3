// Beacons over the simulated network: broadcaster -> datagrams -> observer -> janitor, feeding a
// beacon-driven TopologyBuilder.
#include <gtest/gtest.h>

#include "peat/beacon/broadcaster.hpp"
#include "peat/beacon/janitor.hpp"
#include "peat/beacon/observer.hpp"
#include "peat/sim/sim_loop.hpp"
#include "peat/sim/sim_network.hpp"
#include "peat/sim/sim_transport.hpp"
#include "peat/topology/builder.hpp"

using namespace std::chrono_literals;
using namespace peat::beacon;

namespace {
struct BeaconNode {
  BeaconNode(peat::sim::SimNetwork& net, const std::string& id, HierarchyLevel level, double dlat)
      : transport(net, id),
        observer({id, "", false, 30, 100}),
        broadcaster(
            net.loop(),
            [&] {
              auto b =
                  GeographicBeacon::make(id, {37.7749 + dlat, -122.4194, std::nullopt}, level, 0);
              b.apply_profile(NodeProfile::static_node({4, 4096, 100, 10, 10, {}}));
              return b;
            }(),
            5s, datagram_sink(transport)),
        janitor(net.loop(), observer, 5s) {
    observer.set_my_geohash(broadcaster.beacon().geohash);
    peat::transport::TransportEvents ev;
    ev.on_datagram = [this, &net](const std::string&, peat::Bytes data) {
      if (observer.ingest(data, net.loop().unix_millis() / 1000)) ++accepted;
    };
    transport.set_events(ev);
    EXPECT_TRUE(transport.start().ok());
    broadcaster.start();
    janitor.start();
  }
  peat::sim::SimTransport transport;
  BeaconObserver observer;
  BeaconBroadcaster broadcaster;
  BeaconJanitor janitor;
  int accepted = 0;
};
}  // namespace

TEST(BeaconSim, BroadcastObserveExpireAndFormTopology) {
  peat::sim::SimLoop loop;
  peat::sim::SimNetwork net(loop, 3);
  for (auto id : {"plt", "sq1", "sq2"}) net.add_node(id);
  BeaconNode plt(net, "plt", HierarchyLevel::kPlatoon, 0.0);
  BeaconNode sq1(net, "sq1", HierarchyLevel::kSquad, 0.0002);
  BeaconNode sq2(net, "sq2", HierarchyLevel::kSquad, 0.0004);
  sq1.transport.connect("plt", {});
  sq1.transport.connect("sq2", {});
  sq2.transport.connect("plt", {});
  loop.run_for(11s);
  EXPECT_EQ(sq1.observer.size(), 2u);
  EXPECT_EQ(plt.observer.size(), 2u);
  EXPECT_GE(sq1.accepted, 4);
  EXPECT_EQ(sq1.observer.query_by_geohash(plt.broadcaster.beacon().geohash.substr(0, 6)).size(),
            2u);

  peat::topology::TopologyBuilder builder({}, "sq1", sq1.broadcaster.beacon().position,
                                          HierarchyLevel::kSquad);
  builder.evaluate(sq1.observer.nearby(), loop.now());
  ASSERT_TRUE(builder.selected_peer().has_value());
  EXPECT_EQ(builder.selected_peer()->node_id, "plt");
  EXPECT_EQ(builder.state().lateral_peers.count("sq2"), 1u);

  // The platoon node crashes: its beacon ages out (TTL 30 s) and the janitor removes it.
  net.crash("plt");
  loop.run_for(25s);
  EXPECT_TRUE(sq1.observer.get("plt").has_value());
  loop.run_for(20s);
  EXPECT_FALSE(sq1.observer.get("plt").has_value());
  EXPECT_EQ(sq1.janitor.removed_total(), 1u);
  EXPECT_TRUE(sq1.observer.get("sq2").has_value());
}
