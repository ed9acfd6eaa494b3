#include "peat/sim/sim_network.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace peat::sim {
namespace {

using namespace std::chrono_literals;

struct Received {
  Packet packet;
  Duration at;
};

class SimNetworkTest : public ::testing::Test {
 protected:
  SimNetworkTest() : net(loop, 42) {
    net.add_node("a");
    net.add_node("b");
    net.add_node("c");
    for (const char* n : {"a", "b", "c"}) {
      EXPECT_TRUE(net.bind({n, 1},
                           [this](const Packet& p) {
                             got.push_back({p, loop.elapsed()});
                           })
                      .ok());
    }
  }
  void send(const char* from, const char* to, std::size_t size = 10) {
    net.send({from, 1}, {to, 1}, Bytes(size, 0xab));
  }
  SimLoop loop;
  SimNetwork net;
  std::vector<Received> got;
};

TEST_F(SimNetworkTest, DeliversAfterDelay) {
  LinkConfig link;
  link.delay = 7ms;
  net.set_link("a", "b", link);
  send("a", "b");
  loop.run_until_idle();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at, Duration(7ms));
  EXPECT_EQ(got[0].packet.from, (PeerAddress{"a", 1}));
  EXPECT_EQ(net.stats().delivered, 1u);
}

TEST_F(SimNetworkTest, BindErrors) {
  EXPECT_EQ(net.bind({"a", 1}, {}).error().code, "ADDRESS_IN_USE");
  EXPECT_EQ(net.bind({"zz", 1}, {}).error().code, "UNKNOWN_NODE");
  EXPECT_EQ(net.ephemeral_port("a"), 49152);
  send("a", "b");
  net.unbind({"b", 1});
  loop.run_until_idle();
  EXPECT_EQ(net.stats().no_endpoint, 1u);
}

TEST_F(SimNetworkTest, LossIsSeededAndNearTheConfiguredRate) {
  LinkConfig link;
  link.loss = 0.25;
  net.set_link("a", "b", link);
  for (int i = 0; i < 4000; ++i) send("a", "b");
  loop.run_until_idle();
  EXPECT_GT(got.size(), 2800u);
  EXPECT_LT(got.size(), 3200u);
  EXPECT_EQ(net.stats().lost + got.size(), 4000u);
}

TEST_F(SimNetworkTest, BandwidthSerializesAndQueueDropsTail) {
  LinkConfig link;
  link.delay = 0ms;
  link.bandwidth_bps = 8'000'000;  // 1 byte per microsecond
  link.queue_bytes = 5000;
  net.set_link("a", "b", link);
  for (int i = 0; i < 10; ++i) send("a", "b", 1000);
  loop.run_until_idle();
  // The queue counts every byte not yet serialized, including the packet on the wire: 5 fit.
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(net.stats().queue_full, 5u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].at, Duration(std::chrono::microseconds(1000 * (i + 1))));
  }
}

TEST_F(SimNetworkTest, JitterAndReorderChangeOrderDuplicationAddsCopies) {
  LinkConfig link;
  link.delay = 10ms;
  link.jitter = 5ms;
  link.reorder = 0.2;
  link.duplicate = 0.1;
  net.set_link("a", "b", link);
  for (int i = 0; i < 500; ++i) send("a", "b");
  loop.run_until_idle();
  EXPECT_GT(net.stats().duplicated, 20u);
  EXPECT_EQ(got.size(), 500u + net.stats().duplicated);
  bool reordered = false;
  for (std::size_t i = 1; i < got.size(); ++i) {
    if (got[i].packet.id < got[i - 1].packet.id) reordered = true;
  }
  EXPECT_TRUE(reordered);
}

TEST_F(SimNetworkTest, PartitionDropsInFlightAndHealRestores) {
  LinkConfig link;
  link.delay = 10ms;
  net.set_default_link(link);
  send("a", "b");
  send("a", "c");
  loop.run_for(5ms);
  net.partition({{"a", "c"}, {"b"}});
  EXPECT_FALSE(net.can_reach("a", "b"));
  EXPECT_TRUE(net.can_reach("a", "c"));
  send("a", "b");
  loop.run_until_idle();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].packet.to.host, "c");
  EXPECT_EQ(net.stats().link_down, 2u);
  net.heal();
  send("a", "b");
  loop.run_until_idle();
  EXPECT_EQ(got.size(), 2u);
}

TEST_F(SimNetworkTest, LinkCutIsPerPair) {
  net.set_link_up("a", "b", false);
  send("a", "b");
  send("b", "a");
  send("a", "c");
  loop.run_until_idle();
  EXPECT_EQ(got.size(), 1u);
  net.set_link_up("a", "b", true);
  send("a", "b");
  loop.run_until_idle();
  EXPECT_EQ(got.size(), 2u);
}

TEST_F(SimNetworkTest, CrashUnbindsAndRestartNeedsNewEndpoints) {
  int crashed = 0;
  net.unbind({"c", 1});
  ASSERT_TRUE(net.bind(
                     {"c", 1}, [](const Packet&) {}, [&] { ++crashed; })
                  .ok());
  send("a", "c");
  net.crash("c");
  EXPECT_EQ(crashed, 1);
  EXPECT_FALSE(net.is_up("c"));
  EXPECT_EQ(net.bind({"c", 1}, {}).error().code, "NODE_DOWN");
  send("a", "c");
  loop.run_until_idle();
  EXPECT_EQ(net.stats().node_down, 2u);
  net.restart("c");
  EXPECT_EQ(net.incarnation("c"), 1u);
  EXPECT_TRUE(net.bind({"c", 1}, [this](const Packet& p) { got.push_back({p, {}}); }).ok());
  send("a", "c");
  loop.run_until_idle();
  EXPECT_EQ(got.size(), 1u);
}

TEST_F(SimNetworkTest, BroadcastReachesEveryReachableNode) {
  net.partition({{"a", "b"}, {"c"}});
  EXPECT_EQ(net.broadcast({"a", 1}, 1, Bytes{1, 2, 3}), 2u);
  loop.run_until_idle();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].packet.to, (PeerAddress{"b", 1}));
  net.heal();
  net.broadcast({"a", 1}, 1, Bytes{4});
  loop.run_until_idle();
  EXPECT_EQ(got.size(), 3u);
}

TEST_F(SimNetworkTest, FilterAndObserverSeeEveryPacket) {
  std::vector<PacketFate> fates;
  net.set_observer([&](const Packet&, PacketFate f) { fates.push_back(f); });
  net.set_filter([](const Packet& p) {
    return p.id == 2 ? SimNetwork::Verdict::kDrop : SimNetwork::Verdict::kPass;
  });
  send("a", "b");
  send("a", "b");
  loop.run_until_idle();
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(fates, (std::vector<PacketFate>{PacketFate::kSent, PacketFate::kFiltered,
                                            PacketFate::kDelivered}));
  EXPECT_STREQ(to_string(PacketFate::kFiltered), "filtered");
}

}  // namespace
}  // namespace peat::sim
