// The TransportManager over two simulated media (a fast "wifi" primary and a slow, lossy "ble"
// alternate): failover mid-transfer, failback with hysteresis, exactly-once in-order delivery.
// PEAT_DEBUG=1 prints link and switch events with their virtual times.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "peat/sim/sim_transport.hpp"
#include "peat/transport/transport_manager.hpp"

namespace peat::transport {
namespace {

using namespace std::chrono_literals;
using sim::SimLoop;
using sim::SimNetwork;
using sim::SimTransport;

TransportManagerConfig fast_config() {
  TransportManagerConfig c;
  c.health.interval = 200ms;
  c.health.suspect_after_missed = 2;
  c.health.dead_after_missed = 4;
  c.reconnect.initial_delay = 200ms;
  c.reconnect.max_delay = 2s;
  c.reconnect.max_retries.reset();
  c.failback_hold = 1s;
  c.min_dwell = 500ms;
  c.tick = 50ms;
  return c;
}

struct Mesh {
  explicit Mesh(std::uint64_t seed, bool redundant = false)
      : redundant_mode(redundant),
        wifi(loop, seed, "wifi"),
        ble(loop, seed + 1, "ble"),
        rng_a(seed + 2),
        rng_b(seed + 3) {
    for (auto* net : {&wifi, &ble}) {
      net->add_node("a");
      net->add_node("b");
    }
    sim::LinkConfig fast;
    fast.delay = 5ms;
    fast.jitter = 1ms;
    wifi.set_default_link(fast);
    sim::LinkConfig slow;
    slow.delay = 30ms;
    slow.jitter = 10ms;
    slow.loss = 0.02;
    slow.bandwidth_bps = 2'000'000;
    ble.set_default_link(slow);
    tb_wifi = std::make_unique<SimTransport>(wifi, "b");
    tb_ble = std::make_unique<SimTransport>(ble, "b");
    EXPECT_TRUE(tb_wifi->start().ok());
    EXPECT_TRUE(tb_ble->start().ok());
    mb = std::make_unique<TransportManager>(loop, rng_b, fast_config());
    EXPECT_TRUE(mb->add_link("wifi", *tb_wifi).ok());
    EXPECT_TRUE(mb->add_link("ble", *tb_ble).ok());
    mb->set_policy(policy());
    TransportManagerEvents eb;
    eb.on_message = [this](const PeerId& peer, Channel channel, Bytes m) {
      EXPECT_EQ(peer, "a");
      EXPECT_EQ(channel, Channel::kSync);
      received.push_back(m.size() < 9 ? std::stoi(std::string(m.begin(), m.end())) : -1);
    };
    mb->set_events(eb);
    mb->start();
    make_a();
  }

  static PacePolicy policy() { return {"test", {"wifi"}, {"ble"}, {}, {}}; }

  // Node a: its transports and manager (again after a crash: a fresh process).
  void make_a() {
    ta_wifi = std::make_unique<SimTransport>(wifi, "a");
    ta_ble = std::make_unique<SimTransport>(ble, "a");
    EXPECT_TRUE(ta_wifi->start().ok());
    EXPECT_TRUE(ta_ble->start().ok());
    TransportManagerConfig config = fast_config();
    config.redundant = redundant_mode;
    ma = std::make_unique<TransportManager>(loop, rng_a, config);
    EXPECT_TRUE(ma->add_link("wifi", *ta_wifi).ok());
    EXPECT_TRUE(ma->add_link("ble", *ta_ble).ok());
    EXPECT_EQ(ma->add_link("ble", *ta_ble).error().code, "ALREADY_EXISTS");
    ma->set_policy(policy());
    TransportManagerEvents ea;
    ea.on_active_link_changed = [this](const PeerId&, const std::string& from,
                                       const std::string& to) {
      switches.emplace_back(from, to);
      if (getenv("PEAT_DEBUG")) {
        printf("%.3f switch %s -> %s\n", std::chrono::duration<double>(loop.elapsed()).count(),
               from.c_str(), to.c_str());
      }
    };
    ea.on_link_changed = [this](const PeerId&, const std::string& link, bool up) {
      if (getenv("PEAT_DEBUG")) {
        printf("%.3f link %s %s\n", std::chrono::duration<double>(loop.elapsed()).count(),
               link.c_str(), up ? "up" : "down");
      }
    };
    ea.on_message = [this](const PeerId& peer, Channel channel, Bytes m) {
      EXPECT_EQ(peer, "b");
      received_by_a.emplace_back(channel, std::string(m.begin(), m.end()));
    };
    ma->set_events(ea);
    ma->start();
    ma->add_peer("b", {{"wifi", {}}, {"ble", {}}});
  }

  void crash_and_restart_a() {
    wifi.crash("a");
    ble.crash("a");
    ma.reset();
    ta_wifi.reset();
    ta_ble.reset();
    wifi.restart("a");
    ble.restart("a");
    switches.clear();
    make_a();
  }

  bool redundant_mode;
  SimLoop loop;
  SimNetwork wifi, ble;
  SeededRng rng_a, rng_b;
  std::unique_ptr<SimTransport> ta_wifi, tb_wifi, ta_ble, tb_ble;
  std::unique_ptr<TransportManager> ma, mb;
  std::vector<std::pair<std::string, std::string>> switches;
  std::vector<int> received;
  std::vector<std::pair<Channel, std::string>> received_by_a;
};

// Sends `count` numbered messages from a to b, one every `gap`, starting with `first`.
void stream(Mesh& m, int first, int count, Duration gap) {
  for (int i = 0; i < count; ++i) {
    m.loop.call_after(gap * i, [&m, n = first + i] {
      ASSERT_TRUE(m.ma->send("b", Channel::kSync, as_bytes(std::to_string(n))).ok());
    });
  }
}

std::uint64_t failover_scenario(std::uint64_t seed, TransportManagerStats* out) {
  Mesh m(seed);
  EXPECT_TRUE(m.loop.run_until([&] { return m.ma->active_link("b") == "wifi"; }, 10s));
  EXPECT_EQ(m.ma->current_level("b"), PaceLevel::kPrimary);
  // Both links are up and monitored at once (dual-active).
  EXPECT_TRUE(m.loop.run_until([&] { return m.ma->link_usable("b", "ble"); }, 10s));

  stream(m, 0, 1000, 5ms);  // 5 s of traffic
  m.loop.run_for(1500ms);
  const std::size_t before_cut = m.received.size();
  EXPECT_GT(before_cut, 200u);
  EXPECT_LT(before_cut, 400u);
  m.wifi.set_link_up("a", "b", false);  // primary cut mid-transfer

  EXPECT_TRUE(m.loop.run_until([&] { return m.ma->active_link("b") == "ble"; }, 5s));
  EXPECT_EQ(m.ma->current_level("b"), PaceLevel::kAlternate);
  const std::size_t at_failover = m.received.size();
  m.loop.run_for(1500ms);
  EXPECT_GT(m.received.size(), at_failover + 100);  // traffic continues on the alternate

  m.wifi.set_link_up("a", "b", true);  // primary returns
  EXPECT_TRUE(m.loop.run_until([&] { return m.ma->active_link("b") == "wifi"; }, 30s));
  EXPECT_TRUE(
      m.loop.run_until([&] { return m.received.size() == 1000 && m.ma->unacked("b") == 0; }, 60s));

  // Exactly once, in order, across failover and failback.
  EXPECT_EQ(m.received.size(), 1000u);
  for (int i = 0; i < static_cast<int>(m.received.size()); ++i) {
    if (m.received[i] != i) {
      ADD_FAILURE() << "position " << i << " holds " << m.received[i];
      break;
    }
  }
  EXPECT_EQ(m.switches, (std::vector<std::pair<std::string, std::string>>{
                            {"", "wifi"}, {"wifi", "ble"}, {"ble", "wifi"}}));

  // After failback the bulk goes over wifi again.
  auto ble_bytes = m.ble.stats().bytes_delivered;
  auto wifi_bytes = m.wifi.stats().bytes_delivered;
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(m.ma->send("b", Channel::kSync, Bytes(1000, '7')).ok());
  }
  m.received.clear();
  EXPECT_TRUE(m.loop.run_until([&] { return m.ma->unacked("b") == 0; }, 10s));
  EXPECT_GE(m.wifi.stats().bytes_delivered - wifi_bytes, 100'000u);
  EXPECT_LT(m.ble.stats().bytes_delivered - ble_bytes, 10'000u);
  *out = m.ma->stats();
  EXPECT_EQ(m.mb->stats().messages_delivered, 1100u);
  return m.loop.trace_hash();
}

TEST(TransportManagerFailover, PrimaryCutMidTransferNothingLostOrDuplicated) {
  TransportManagerStats stats;
  failover_scenario(11, &stats);
  EXPECT_EQ(stats.failovers, 1u);
  EXPECT_EQ(stats.failbacks, 1u);
  EXPECT_GT(stats.retransmissions, 0u);  // messages lost with the primary were resent
  EXPECT_GT(stats.reconnect_attempts, 2u);
}

TEST(TransportManagerFailover, DeterministicForASeed) {
  TransportManagerStats s1, s2;
  EXPECT_EQ(failover_scenario(21, &s1), failover_scenario(21, &s2));
  EXPECT_EQ(s1.frames_sent, s2.frames_sent);
}

TEST(TransportManagerFailover, FlappingPrimaryDoesNotCauseFailbackUntilStable) {
  Mesh m(5);
  ASSERT_TRUE(m.loop.run_until([&] { return m.ma->active_link("b") == "wifi"; }, 10s));
  m.wifi.set_link_up("a", "b", false);
  ASSERT_TRUE(m.loop.run_until([&] { return m.ma->active_link("b") == "ble"; }, 5s));
  stream(m, 0, 2000, 5ms);  // 10 s of traffic while the primary flaps
  for (int i = 0; i < 5; ++i) {
    m.wifi.set_link_up("a", "b", true);
    m.loop.run_for(600ms);  // shorter than failback_hold + reconnect
    m.wifi.set_link_up("a", "b", false);
    m.loop.run_for(600ms);
  }
  EXPECT_EQ(m.ma->stats().failbacks, 0u);
  EXPECT_EQ(m.ma->active_link("b"), "ble");
  m.wifi.set_link_up("a", "b", true);
  ASSERT_TRUE(m.loop.run_until([&] { return m.ma->active_link("b") == "wifi"; }, 30s));
  EXPECT_EQ(m.ma->stats().failbacks, 1u);
  ASSERT_TRUE(m.loop.run_until([&] { return m.received.size() == 2000; }, 60s));
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(m.received[i], i);
}

TEST(TransportManagerFailover, TotalIsolationQueuesThenDelivers) {
  Mesh m(8);
  ASSERT_TRUE(m.loop.run_until([&] { return m.ma->active_link("b") == "wifi"; }, 10s));
  m.wifi.set_link_up("a", "b", false);
  m.ble.set_link_up("a", "b", false);
  ASSERT_TRUE(m.loop.run_until([&] { return !m.ma->active_link("b").has_value(); }, 5s));
  EXPECT_EQ(m.ma->current_level("b"), PaceLevel::kNone);
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(m.ma->send("b", Channel::kSync, as_bytes(std::to_string(i))).ok());
  m.loop.run_for(3s);
  const std::size_t during = m.received.size();
  m.ble.set_link_up("a", "b", true);  // only the alternate comes back
  ASSERT_TRUE(m.loop.run_until([&] { return m.received.size() == during + 50; }, 30s));
  EXPECT_EQ(m.ma->active_link("b"), "ble");
  for (int i = 0; i < 50; ++i) EXPECT_EQ(m.received[during + i], i);
}

TEST(TransportManagerFailover, RestartedSenderStartsANewStream) {
  Mesh m(13);
  ASSERT_TRUE(m.loop.run_until([&] { return m.ma->active_link("b") == "wifi"; }, 10s));
  stream(m, 0, 100, 5ms);
  ASSERT_TRUE(m.loop.run_until([&] { return m.received.size() == 100; }, 10s));
  m.loop.run_for(500ms);
  m.crash_and_restart_a();
  ASSERT_TRUE(m.loop.run_until([&] { return m.ma->active_link("b") == "wifi"; }, 10s));
  stream(m, 100, 100, 5ms);
  ASSERT_TRUE(m.loop.run_until([&] { return m.received.size() == 200; }, 30s));
  m.loop.run_for(2s);
  ASSERT_EQ(m.received.size(), 200u);  // nothing taken for a duplicate, nothing repeated
  for (int i = 0; i < 200; ++i) ASSERT_EQ(m.received[i], i);
}

// The longest gap between two deliveries when the primary is cut silently mid-stream.
Duration worst_gap(bool redundant, TransportManagerStats* sender, TransportManagerStats* receiver) {
  Mesh m(17, redundant);
  EXPECT_TRUE(m.loop.run_until([&] { return m.ma->active_link("b") == "wifi"; }, 10s));
  EXPECT_TRUE(m.loop.run_until([&] { return m.ma->link_usable("b", "ble"); }, 10s));
  std::vector<Duration> arrival;
  TransportManagerEvents eb;
  eb.on_message = [&](const PeerId&, Channel, Bytes msg) {
    m.received.push_back(std::stoi(std::string(msg.begin(), msg.end())));
    arrival.push_back(m.loop.elapsed());
  };
  m.mb->set_events(eb);
  stream(m, 0, 400, 5ms);
  m.loop.run_for(1s);
  m.wifi.set_link_up("a", "b", false);
  EXPECT_TRUE(m.loop.run_until([&] { return m.received.size() == 400; }, 30s));
  for (int i = 0; i < static_cast<int>(m.received.size()); ++i) EXPECT_EQ(m.received[i], i);
  Duration worst{};
  for (std::size_t i = 1; i < arrival.size(); ++i) {
    worst = std::max(worst, arrival[i] - arrival[i - 1]);
  }
  *sender = m.ma->stats();
  *receiver = m.mb->stats();
  return worst;
}

TEST(TransportManagerFailover, RedundantModeBridgesTheDetectionGap) {
  TransportManagerStats s_plain, r_plain, s_red, r_red;
  Duration plain = worst_gap(false, &s_plain, &r_plain);
  Duration redundant = worst_gap(true, &s_red, &r_red);
  // Without redundancy the stream stalls until the health check fails the link over; with it
  // the alternate already carries every message and only its own retransmissions delay anything.
  EXPECT_GT(plain, Duration(300ms));
  EXPECT_LT(redundant * 2, plain);
  EXPECT_EQ(s_plain.redundant_copies, 0u);
  EXPECT_GT(s_red.redundant_copies, 300u);
  EXPECT_GT(r_red.duplicates_dropped, 100u);
  if (getenv("PEAT_DEBUG")) {
    printf("worst gap: single %.0f ms, redundant %.0f ms\n",
           std::chrono::duration<double, std::milli>(plain).count(),
           std::chrono::duration<double, std::milli>(redundant).count());
  }
}

TEST(TransportManager, LossyDatagramOnlyLinkStillDeliversExactlyOnceInOrder) {
  SimLoop loop;
  SimNetwork net(loop, 77, "radio");
  net.add_node("a");
  net.add_node("b");
  sim::LinkConfig link;
  link.delay = 20ms;
  link.jitter = 15ms;
  link.loss = 0.1;
  link.duplicate = 0.05;
  net.set_default_link(link);
  sim::SimTransportConfig datagrams;  // the manager sees an unreliable link, like the bypass
  datagrams.capabilities.reliable = false;
  datagrams.capabilities.ordered = false;
  datagrams.capabilities.max_message_size = 1200;
  SimTransport ta(net, "a", datagrams), tb(net, "b", datagrams);
  ASSERT_TRUE(ta.start().ok());
  ASSERT_TRUE(tb.start().ok());
  SeededRng ra(1), rb(2);
  TransportManagerConfig config = fast_config();
  config.health.suspect_after_missed = 3;
  config.health.dead_after_missed = 6;
  config.retransmit_timeout = 300ms;
  TransportManager ma(loop, ra, config), mb(loop, rb, config);
  ASSERT_TRUE(ma.add_link("radio", ta).ok());
  ASSERT_TRUE(mb.add_link("radio", tb).ok());
  std::vector<int> got;
  TransportManagerEvents eb;
  eb.on_message = [&](const PeerId&, Channel, Bytes m) {
    got.push_back(std::stoi(std::string(m.begin(), m.end())));
  };
  mb.set_events(eb);
  ma.start();
  mb.start();
  ma.add_peer("b", {{"radio", {}}});
  ASSERT_TRUE(loop.run_until([&] { return ma.active_link("b").has_value(); }, 10s));
  EXPECT_EQ(ma.send("b", Channel::kSync, Bytes(1200, 0)).error().code, "MESSAGE_TOO_LARGE");
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(ma.send("b", Channel::kSync, as_bytes(std::to_string(i))).ok());
  }
  ASSERT_TRUE(loop.run_until([&] { return got.size() == 300 && ma.unacked("b") == 0; }, 120s));
  for (int i = 0; i < 300; ++i) ASSERT_EQ(got[i], i);
  EXPECT_GT(ma.stats().retransmissions, 0u);
  EXPECT_GT(mb.stats().duplicates_dropped, 0u);
}

TEST(TransportManager, AcceptedPeerCanSendBackOnEveryChannel) {
  Mesh m(4);
  ASSERT_TRUE(m.loop.run_until([&] { return m.mb->active_link("a") == "wifi"; }, 10s));
  ASSERT_TRUE(m.mb->send("a", Channel::kControl, as_bytes("c")).ok());
  ASSERT_TRUE(m.mb->send("a", Channel::kBlobs, as_bytes("b")).ok());
  ASSERT_TRUE(m.mb->send("a", Channel::kEnrollment, as_bytes("e")).ok());
  ASSERT_TRUE(m.loop.run_until([&] { return m.received_by_a.size() == 3; }, 5s));
  EXPECT_EQ(m.received_by_a[0], std::make_pair(Channel::kControl, std::string("c")));
  EXPECT_EQ(m.received_by_a[1], std::make_pair(Channel::kBlobs, std::string("b")));
  EXPECT_EQ(m.received_by_a[2], std::make_pair(Channel::kEnrollment, std::string("e")));
  EXPECT_EQ(m.mb->current_level("a"), PaceLevel::kPrimary);
  EXPECT_TRUE(m.mb->link_health("a", "wifi").has_value());
}

TEST(TransportManager, Errors) {
  Mesh m(3);
  EXPECT_EQ(m.ma->send("zz", Channel::kSync, as_bytes("x")).error().code, "UNKNOWN_PEER");
  Bytes huge((1 << 20), 0);
  EXPECT_EQ(m.ma->send("b", Channel::kSync, huge).error().code, "MESSAGE_TOO_LARGE");
}

}  // namespace
}  // namespace peat::transport
