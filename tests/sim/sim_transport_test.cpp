#include "peat/sim/sim_transport.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace peat::sim {
namespace {

using namespace std::chrono_literals;
using transport::Channel;
using transport::DisconnectReason;
using transport::PeerId;

struct Recorder {
  std::vector<PeerId> connected;
  std::vector<std::pair<PeerId, DisconnectReason>> disconnected;
  std::vector<std::pair<Channel, std::string>> messages;
  std::vector<std::string> datagrams;
  int writable = 0;
  transport::TransportEvents events() {
    transport::TransportEvents e;
    e.on_connected = [this](const PeerId& p) { connected.push_back(p); };
    e.on_disconnected = [this](const PeerId& p, DisconnectReason r, const std::string&) {
      disconnected.emplace_back(p, r);
    };
    e.on_message = [this](const PeerId&, Channel c, Bytes m) {
      messages.emplace_back(c, std::string(m.begin(), m.end()));
    };
    e.on_datagram = [this](const PeerId&, Bytes m) { datagrams.emplace_back(m.begin(), m.end()); };
    e.on_writable = [this](const PeerId&) { ++writable; };
    return e;
  }
};

struct Pair {
  explicit Pair(std::uint64_t seed, LinkConfig link = {}) : net(loop, seed) {
    net.add_node("a");
    net.add_node("b");
    net.set_default_link(link);
    a = std::make_unique<SimTransport>(net, "a");
    b = std::make_unique<SimTransport>(net, "b");
    a->set_events(ra.events());
    b->set_events(rb.events());
    EXPECT_TRUE(a->start().ok());
    EXPECT_TRUE(b->start().ok());
  }
  bool connect() {
    a->connect("b", {});
    return loop.run_until([&] { return a->is_connected("b") && b->is_connected("a"); }, 10s);
  }
  SimLoop loop;
  SimNetwork net;
  std::unique_ptr<SimTransport> a, b;
  Recorder ra, rb;
};

TEST(SimTransport, ConnectSendReceiveDisconnect) {
  Pair p(1);
  ASSERT_TRUE(p.connect());
  EXPECT_EQ(p.ra.connected, std::vector<PeerId>{"b"});
  EXPECT_EQ(p.rb.connected, std::vector<PeerId>{"a"});
  ASSERT_TRUE(p.a->send("b", Channel::kSync, as_bytes("hello")).ok());
  ASSERT_TRUE(p.a->send("b", Channel::kControl, as_bytes("ctl")).ok());
  ASSERT_TRUE(p.b->send_datagram("a", as_bytes("dg")).ok());
  p.loop.run_for(100ms);
  ASSERT_EQ(p.rb.messages.size(), 2u);
  EXPECT_EQ(p.rb.messages[0], std::make_pair(Channel::kSync, std::string("hello")));
  EXPECT_EQ(p.rb.messages[1], std::make_pair(Channel::kControl, std::string("ctl")));
  EXPECT_EQ(p.ra.datagrams, std::vector<std::string>{"dg"});
  auto h = p.a->health("b");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->rtt_ms, 2u);
  p.a->disconnect("b");
  p.loop.run_for(100ms);
  EXPECT_FALSE(p.a->is_connected("b"));
  EXPECT_FALSE(p.b->is_connected("a"));
  ASSERT_EQ(p.rb.disconnected.size(), 1u);
  EXPECT_EQ(p.rb.disconnected[0].second, DisconnectReason::kRemoteClosed);
  EXPECT_EQ(p.ra.disconnected[0].second, DisconnectReason::kLocalClosed);
}

TEST(SimTransport, Errors) {
  Pair p(2);
  EXPECT_EQ(p.a->send("b", Channel::kSync, as_bytes("x")).error().code, "NOT_CONNECTED");
  EXPECT_EQ(p.a->send_datagram("b", as_bytes("x")).error().code, "NOT_CONNECTED");
  ASSERT_TRUE(p.connect());
  Bytes big(1201, 0);
  EXPECT_EQ(p.a->send_datagram("b", big).error().code, "MESSAGE_TOO_LARGE");
  Bytes huge((1 << 20) + 1, 0);
  EXPECT_EQ(p.a->send("b", Channel::kSync, huge).error().code, "MESSAGE_TOO_LARGE");
  SimTransport dup(p.net, "a");
  EXPECT_EQ(dup.start().error().code, "ADDRESS_IN_USE");
}

TEST(SimTransport, ReliableInOrderOverLossDupAndReorder) {
  LinkConfig link;
  link.delay = 5ms;
  link.jitter = 3ms;
  link.loss = 0.2;
  link.duplicate = 0.05;
  link.reorder = 0.1;
  Pair p(3, link);
  ASSERT_TRUE(p.connect());
  constexpr int kCount = 2000;
  int next = 0;
  auto fill = [&] {
    while (next < kCount && p.a->send("b", Channel::kSync, as_bytes(std::to_string(next))).ok()) {
      ++next;
    }
  };
  transport::TransportEvents events = p.ra.events();
  events.on_writable = [&](const PeerId&) { fill(); };
  p.a->set_events(events);
  fill();
  ASSERT_TRUE(p.loop.run_until([&] { return p.rb.messages.size() == kCount; }, 600s));
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(p.rb.messages[i].second, std::to_string(i));
  EXPECT_GT(p.a->stats().retransmissions, 0u);
  EXPECT_GT(p.a->health("b")->packet_loss_percent, 0);
}

TEST(SimTransport, BackpressureWouldBlockThenWritable) {
  Pair p(4);
  ASSERT_TRUE(p.connect());
  p.net.set_link_up("a", "b", false);  // nothing drains
  int accepted = 0;
  while (p.a->send("b", Channel::kBlobs, as_bytes("m")).ok()) ++accepted;
  EXPECT_EQ(accepted, 4096 + 64);
  EXPECT_EQ(p.a->send("b", Channel::kBlobs, as_bytes("m")).error().code, "WOULD_BLOCK");
  p.net.set_link_up("a", "b", true);
  ASSERT_TRUE(p.loop.run_until([&] { return p.ra.writable > 0; }, 60s));
}

TEST(SimTransport, PartitionTimesOutBothSides) {
  Pair p(5);
  ASSERT_TRUE(p.connect());
  p.net.partition({{"a"}, {"b"}});
  p.loop.run_for(5s);
  ASSERT_EQ(p.ra.disconnected.size(), 1u);
  EXPECT_EQ(p.ra.disconnected[0].second, DisconnectReason::kTimeout);
  EXPECT_EQ(p.rb.disconnected[0].second, DisconnectReason::kTimeout);
  p.net.heal();
  ASSERT_TRUE(p.connect());
}

TEST(SimTransport, ConnectToNothingTimesOut) {
  Pair p(6);
  p.a->connect("b", {{"b", 9}});
  p.loop.run_for(5s);
  ASSERT_EQ(p.ra.disconnected.size(), 1u);
  EXPECT_EQ(p.ra.disconnected[0].second, DisconnectReason::kTimeout);
  EXPECT_TRUE(p.ra.connected.empty());
}

TEST(SimTransport, CrashDropsEverythingAndRestartReconnects) {
  Pair p(7);
  ASSERT_TRUE(p.connect());
  p.net.crash("b");
  EXPECT_TRUE(p.b->crashed());
  EXPECT_FALSE(p.b->is_connected("a"));
  EXPECT_TRUE(p.rb.disconnected.empty());  // a crashed process says nothing
  EXPECT_EQ(p.b->start().error().code, "CRASHED");
  p.net.restart("b");
  p.b = std::make_unique<SimTransport>(p.net, "b");
  Recorder fresh;
  p.b->set_events(fresh.events());
  ASSERT_TRUE(p.b->start().ok());
  // The fresh b connects; a sees the old session replaced.
  p.b->connect("a", {});
  ASSERT_TRUE(p.loop.run_until([&] { return p.b->is_connected("a"); }, 10s));
  ASSERT_EQ(p.ra.disconnected.size(), 1u);
  EXPECT_EQ(p.ra.connected.size(), 2u);
  ASSERT_TRUE(p.a->send("b", Channel::kSync, as_bytes("after")).ok());
  p.loop.run_for(100ms);
  ASSERT_EQ(fresh.messages.size(), 1u);
}

TEST(SimTransport, StaleSynDoesNotReplaceTheConnection) {
  Pair p(8);
  ASSERT_TRUE(p.connect());
  // A SYN of an older attempt, as a delayed duplicate would arrive: type 1, some session,
  // receiver 0, attempt order 0.
  Bytes syn{1};
  for (int i = 0; i < 16; ++i) syn.push_back(i < 8 ? 0x77 : 0);
  for (int i = 0; i < 8; ++i) syn.push_back(0);
  p.net.send({"a", 7000}, {"b", 7000}, syn);
  p.loop.run_for(10ms);
  EXPECT_TRUE(p.rb.disconnected.empty());
  ASSERT_TRUE(p.a->send("b", Channel::kSync, as_bytes("still here")).ok());
  p.loop.run_for(50ms);
  ASSERT_EQ(p.rb.messages.size(), 1u);
  EXPECT_EQ(p.rb.messages[0].second, "still here");
}

std::uint64_t scenario(std::uint64_t seed) {
  LinkConfig link;
  link.delay = 3ms;
  link.jitter = 4ms;
  link.loss = 0.1;
  link.reorder = 0.1;
  link.duplicate = 0.02;
  Pair p(seed, link);
  EXPECT_TRUE(p.connect());
  for (int i = 0; i < 300; ++i) {
    EXPECT_TRUE(p.a->send("b", Channel::kSync, as_bytes(std::to_string(i))).ok());
    EXPECT_TRUE(p.b->send_datagram("a", as_bytes("d")).ok());
  }
  p.loop.run_for(30s);
  EXPECT_EQ(p.rb.messages.size(), 300u);
  return p.loop.trace_hash();
}

TEST(SimTransport, SameSeedSameTraceDifferentSeedDifferentTrace) {
  EXPECT_EQ(scenario(99), scenario(99));
  EXPECT_NE(scenario(99), scenario(100));
}

}  // namespace
}  // namespace peat::sim
