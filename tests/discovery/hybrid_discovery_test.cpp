#include "peat/discovery/hybrid_discovery.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace peat::discovery {
namespace {

// A child whose events the test drives by hand.
class Manual final : public DiscoveryStrategy {
 public:
  Status start() override {
    ++starts;
    return fail_start ? Status(config_error("boom")) : Status();
  }
  Status stop() override {
    ++stops;
    return {};
  }
  Status advertise(const std::string& node_id, std::uint16_t port) override {
    advertised = node_id + ":" + std::to_string(port);
    return mdns_error("ignored by hybrid");
  }
  std::vector<PeerInfo> discovered_peers() const override { return {}; }
  void push(DiscoveryEvent e) { emit(std::move(e)); }

  int starts = 0, stops = 0;
  bool fail_start = false;
  std::string advertised;
};

PeerInfo peer(const std::string& id, const std::string& host) {
  PeerInfo p;
  p.node_id = id;
  p.addresses = {{host, 5000}};
  return p;
}

struct Fixture {
  std::shared_ptr<Manual> a = std::make_shared<Manual>();
  std::shared_ptr<Manual> b = std::make_shared<Manual>();
  HybridDiscovery h;
  std::shared_ptr<EventStream> out;
  Fixture() {
    h.add_strategy("mdns", a);
    h.add_strategy("static", b);
    out = *h.event_stream();
  }
};

TEST(HybridDiscovery, ManagesNamedChildren) {
  HybridDiscovery h;
  h.add_strategy("a", std::make_shared<Manual>());
  EXPECT_TRUE(h.has_strategy("a"));
  EXPECT_EQ(h.strategy_count(), 1u);
  EXPECT_TRUE(h.remove_strategy("a"));
  EXPECT_FALSE(h.remove_strategy("a"));
  EXPECT_EQ(h.strategy_count(), 0u);
}

TEST(HybridDiscovery, SamePeerFromTwoSourcesIsFoundThenUpdated) {
  Fixture f;
  ASSERT_TRUE(f.h.start());
  f.a->push(PeerFound{peer("n1", "10.0.0.1")});
  f.b->push(PeerFound{peer("n1", "10.0.0.2")});
  auto ev = f.out->drain();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<PeerFound>(ev[0]));
  ASSERT_TRUE(std::holds_alternative<PeerUpdated>(ev[1]));
  auto peers = f.h.discovered_peers();
  ASSERT_EQ(peers.size(), 1u);                        // de-duplicated
  EXPECT_EQ(peers[0].addresses[0].host, "10.0.0.2");  // last writer wins
}

TEST(HybridDiscovery, UpdatesAndLossesOfUnknownPeersAreDropped) {
  Fixture f;
  ASSERT_TRUE(f.h.start());
  f.a->push(PeerUpdated{peer("ghost", "10.0.0.1")});
  f.a->push(PeerLost{"ghost"});
  EXPECT_TRUE(f.out->drain().empty());
  EXPECT_TRUE(f.h.discovered_peers().empty());
}

TEST(HybridDiscovery, LossIsForwardedOnlyWhenNoSourceStillSeesThePeer) {
  Fixture f;
  ASSERT_TRUE(f.h.start());
  f.a->push(PeerFound{peer("n1", "10.0.0.1")});
  f.b->push(PeerFound{peer("n1", "10.0.0.2")});
  (void)f.out->drain();
  f.b->push(PeerLost{"n1"});  // mDNS still sees it: fall back to its view
  auto ev = f.out->drain();
  ASSERT_EQ(ev.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<PeerUpdated>(ev[0]));
  EXPECT_EQ(std::get<PeerUpdated>(ev[0]).peer.addresses[0].host, "10.0.0.1");
  f.a->push(PeerLost{"n1"});
  ev = f.out->drain();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<PeerLost>(ev[0]).node_id, "n1");
  EXPECT_TRUE(f.h.discovered_peers().empty());
}

TEST(HybridDiscovery, StartStopAdvertiseReachEveryChild) {
  Fixture f;
  ASSERT_TRUE(f.h.start());
  ASSERT_TRUE(f.h.start());  // idempotent
  EXPECT_EQ(f.a->starts, 1);
  EXPECT_EQ(f.b->starts, 1);
  EXPECT_TRUE(f.h.advertise("me", 7));  // child failures are ignored
  EXPECT_EQ(f.a->advertised, "me:7");
  EXPECT_EQ(f.b->advertised, "me:7");
  ASSERT_TRUE(f.h.stop());
  EXPECT_EQ(f.a->stops, 1);
  EXPECT_EQ(f.b->stops, 1);
}

TEST(HybridDiscovery, ChildStartFailureNamesTheStrategy) {
  Fixture f;
  f.b->fail_start = true;
  auto r = f.h.start();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "CONFIG_ERROR");
  EXPECT_EQ(r.error().message,
            "Configuration error: Failed to start strategy 'static': Configuration error: boom");
}

TEST(HybridDiscovery, ConsumedChildStreamIsReported) {
  auto a = std::make_shared<Manual>();
  (void)a->event_stream();
  HybridDiscovery h;
  h.add_strategy("taken", a);
  auto r = h.start();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("Failed to get event stream for strategy 'taken'"),
            std::string::npos);
}

TEST(HybridDiscovery, EventsBeforeStartAreMerged) {
  auto a = std::make_shared<Manual>();
  a->push(PeerFound{peer("early", "10.0.0.1")});
  HybridDiscovery h;
  h.add_strategy("a", a);
  auto out = *h.event_stream();
  ASSERT_TRUE(h.start());
  auto ev = out->drain();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(event_node_id(ev[0]), "early");
}

TEST(HybridDiscovery, ChildrenMayPushFromOtherThreads) {
  Fixture f;
  ASSERT_TRUE(f.h.start());
  std::thread t1([&] {
    for (int i = 0; i < 200; ++i) f.a->push(PeerFound{peer("a" + std::to_string(i), "10.0.0.1")});
  });
  std::thread t2([&] {
    for (int i = 0; i < 200; ++i) f.b->push(PeerFound{peer("b" + std::to_string(i), "10.0.0.2")});
  });
  t1.join();
  t2.join();
  EXPECT_EQ(f.out->drain().size(), 400u);
  EXPECT_EQ(f.h.discovered_peers().size(), 400u);
}

}  // namespace
}  // namespace peat::discovery
