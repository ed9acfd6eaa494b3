#include "peat/transport/health_monitor.hpp"

#include <gtest/gtest.h>

namespace peat::transport {
namespace {

using namespace std::chrono_literals;

const Instant t0 = Instant{} + 1h;

TEST(HealthMonitor, DefaultsAndPresetsMatchRust) {
  HealthConfig d;
  EXPECT_EQ(d.interval, Duration(5s));
  EXPECT_EQ(d.suspect_after_missed, 2u);
  EXPECT_EQ(d.dead_after_missed, 4u);
  EXPECT_EQ(d.degraded_rtt_ms, 1000u);
  EXPECT_EQ(d.degraded_loss_percent, 10);
  auto a = HealthConfig::aggressive();
  EXPECT_EQ(a.interval, Duration(2s));
  EXPECT_EQ(a.dead_after_missed, 3u);
  EXPECT_EQ(a.degraded_rtt_ms, 500u);
  auto r = HealthConfig::relaxed();
  EXPECT_EQ(r.interval, Duration(15s));
  EXPECT_EQ(r.degraded_loss_percent, 20);
  EXPECT_STREQ(to_string(ConnectionState::kSuspect), "suspect");
}

TEST(HealthMonitor, RttSmoothingAsJacobsonKarels) {
  HealthMonitor m;
  m.start_monitoring("p", t0);
  auto s1 = m.record_ping_sent("p", t0);
  m.record_pong_received("p", *s1, t0 + 100ms);
  EXPECT_EQ(m.get_health("p")->rtt_ms, 100u);
  EXPECT_EQ(m.get_health("p")->rtt_variance_ms, 50u);
  auto s2 = m.record_ping_sent("p", t0 + 1s);
  m.record_pong_received("p", *s2, t0 + 1s + 200ms);
  // srtt 112.5, rttvar 62.5 (reported rounded)
  EXPECT_EQ(m.get_health("p")->rtt_ms, 113u);
  EXPECT_EQ(m.get_health("p")->rtt_variance_ms, 63u);
  EXPECT_FALSE(m.record_ping_sent("unknown", t0).has_value());
}

TEST(HealthMonitor, MissedPingsLeadToSuspectThenDeadAndNoMorePings) {
  HealthConfig c;
  c.interval = 1s;
  HealthMonitor m(c);
  m.start_monitoring("p", t0);
  EXPECT_TRUE(m.peers_needing_ping(t0 + 500ms).empty());
  Instant t = t0;
  std::vector<std::string> dead;
  for (int i = 0; i < 4; ++i) {
    t += 1s;
    ASSERT_EQ(m.peers_needing_ping(t), std::vector<std::string>{"p"}) << i;
    m.record_ping_sent("p", t);
    t += 1100ms;
    dead = m.check_timeouts(t);
    if (i == 1) {
      EXPECT_EQ(m.get_health("p")->state, ConnectionState::kSuspect);
    }
  }
  EXPECT_EQ(dead, std::vector<std::string>{"p"});
  EXPECT_EQ(m.get_health("p")->state, ConnectionState::kDead);
  EXPECT_EQ(m.dead_peers(), std::vector<std::string>{"p"});
  EXPECT_TRUE(m.peers_needing_ping(t + 10s).empty());
  EXPECT_EQ(m.get_health("p")->packet_loss_percent, 100);
}

TEST(HealthMonitor, RecoveryFromSuspectOnGoodPong) {
  HealthConfig c;
  c.interval = 1s;
  HealthMonitor m(c);
  m.start_monitoring("p", t0);
  Instant t = t0;
  for (int i = 0; i < 2; ++i) {
    t += 1s;
    m.record_ping_sent("p", t);
    t += 1100ms;
    m.check_timeouts(t);
  }
  EXPECT_EQ(m.unhealthy_peers(), std::vector<std::string>{"p"});
  t += 1s;
  auto seq = m.record_ping_sent("p", t);
  m.record_pong_received("p", *seq, t + 10ms);
  // Loss is 2 of 3 → still Degraded by loss, no longer Suspect.
  EXPECT_EQ(m.get_health("p")->state, ConnectionState::kDegraded);
  for (int i = 0; i < 20; ++i) {
    t += 1s;
    auto s = m.record_ping_sent("p", t);
    m.record_pong_received("p", *s, t + 10ms);
  }
  EXPECT_EQ(m.get_health("p")->state,
            ConnectionState::kHealthy);  // the last 20 pings were all answered
}

TEST(HealthMonitor, LossPercentAndWrongSequencePong) {
  HealthMonitor m;
  m.start_monitoring("p", t0);
  Instant t = t0;
  for (int i = 0; i < 5; ++i) {
    t += 10s;
    auto s = m.record_ping_sent("p", t);
    if (i == 2) {
      m.record_pong_received("p", *s + 99, t + 5ms);  // mismatched: cancels, does not count
    } else {
      m.record_pong_received("p", *s, t + 5ms);
    }
  }
  EXPECT_EQ(m.get_health("p")->packet_loss_percent, 20);
  EXPECT_EQ(m.get_health("p")->state, ConnectionState::kDegraded);  // 20 % > 10 %
}

TEST(HealthMonitor, LifetimeLossWindowBehavesLikeRust) {
  HealthConfig c;
  c.loss_window = 0;
  HealthMonitor m(c);
  m.start_monitoring("p", t0);
  Instant t = t0;
  for (int i = 0; i < 30; ++i) {
    t += 10s;
    auto s = m.record_ping_sent("p", t);
    if (i >= 3) m.record_pong_received("p", *s, t + 5ms);
  }
  EXPECT_EQ(m.get_health("p")->packet_loss_percent, 10);  // 3 of 30, never forgotten
}

TEST(HealthMonitor, InFlightPingIsNotCountedAsLoss) {
  HealthMonitor m;
  m.start_monitoring("p", t0);
  m.record_ping_sent("p", t0 + 5s);
  m.check_timeouts(t0 + 5s + 10ms);
  EXPECT_EQ(m.get_health("p")->packet_loss_percent, 0);
  EXPECT_EQ(m.get_health("p")->state, ConnectionState::kHealthy);
}

TEST(HealthMonitor, HighRttDegradesAndFiresEventOnce) {
  HealthConfig c;
  c.interval = 10ms;
  c.degraded_rtt_ms = 50;
  HealthMonitor m(c);
  int events = 0;
  m.set_on_degraded([&](const std::string& peer, const ConnectionHealth& h) {
    EXPECT_EQ(peer, "p");
    EXPECT_EQ(h.state, ConnectionState::kDegraded);
    ++events;
  });
  m.start_monitoring("p", t0);
  Instant t = t0;
  for (int i = 0; i < 3; ++i) {
    t += 10ms;
    auto s = m.record_ping_sent("p", t);
    t += 60ms;
    m.record_pong_received("p", *s, t);
  }
  EXPECT_EQ(m.get_health("p")->state, ConnectionState::kDegraded);
  EXPECT_EQ(events, 1);
}

TEST(HealthMonitor, DisabledIsANoOp) {
  HealthMonitor m(HealthConfig::disabled());
  m.start_monitoring("p", t0);
  EXPECT_EQ(m.monitored_peer_count(), 0u);
  EXPECT_TRUE(m.peers_needing_ping(t0 + 1h).empty());
  EXPECT_FALSE(m.record_ping_sent("p", t0).has_value());
}

}  // namespace
}  // namespace peat::transport
