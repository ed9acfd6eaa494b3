#include "peat/transport/reconnection.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace peat::transport {
namespace {

using namespace std::chrono_literals;

const Instant t0 = Instant{} + 1h;

double seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

TEST(Reconnection, DefaultsAndPresetsMatchRust) {
  ReconnectionPolicy p;
  EXPECT_TRUE(p.enabled);
  EXPECT_EQ(p.initial_delay, Duration(1s));
  EXPECT_EQ(p.max_delay, Duration(60s));
  EXPECT_EQ(p.multiplier, 2.0);
  EXPECT_EQ(p.max_retries, 10u);
  EXPECT_EQ(p.jitter, 0.2);
  auto a = ReconnectionPolicy::aggressive();
  EXPECT_EQ(a.initial_delay, Duration(100ms));
  EXPECT_EQ(a.max_retries, 20u);
  auto c = ReconnectionPolicy::conservative();
  EXPECT_EQ(c.max_delay, Duration(300s));
  EXPECT_FALSE(ReconnectionPolicy::disabled().should_retry(0));
}

TEST(Reconnection, RustDeterministicJitterReproducesRustTable) {
  ReconnectionPolicy p;
  p.jitter_mode = JitterMode::kRustDeterministic;
  SeededRng rng(1);
  const double expected[] = {0.8,    2.094,  3.578,  9.133,  15.822,
                             26.754, 64.997, 55.830, 70.663, 61.495};
  for (std::uint32_t n = 0; n < 10; ++n) {
    EXPECT_NEAR(seconds(p.calculate_delay(n, rng)), expected[n], 0.001) << n;
  }
}

TEST(Reconnection, NoJitterDoublesUpToTheCap) {
  ReconnectionPolicy p;
  p.jitter = 0;
  SeededRng rng(1);
  const double expected[] = {1, 2, 4, 8, 16, 32, 60, 60};
  for (std::uint32_t n = 0; n < 8; ++n)
    EXPECT_DOUBLE_EQ(seconds(p.calculate_delay(n, rng)), expected[n]);
}

TEST(Reconnection, RandomJitterIsBoundedCappedAndSeeded) {
  ReconnectionPolicy p;
  SeededRng a(42), b(42), c(43);
  bool differs_between_peers = false;
  for (std::uint32_t n = 0; n < 12; ++n) {
    Duration da = p.calculate_delay(n, a);
    EXPECT_EQ(da, p.calculate_delay(n, b));  // same seed, same delays
    if (da != p.calculate_delay(n, c)) differs_between_peers = true;
    double base = std::min(std::pow(2.0, n), 60.0);
    EXPECT_GE(seconds(da), base * 0.8 - 1e-9);
    EXPECT_LE(seconds(da), std::min(base * 1.2, 60.0) + 1e-9);  // never above max_delay
  }
  EXPECT_TRUE(differs_between_peers);
}

TEST(Reconnection, ShouldRetryBounds) {
  ReconnectionPolicy p;
  EXPECT_TRUE(p.should_retry(9));
  EXPECT_FALSE(p.should_retry(10));
  p.max_retries.reset();
  EXPECT_TRUE(p.should_retry(1'000'000));
}

TEST(Reconnection, ManagerSchedulesOnlyStaticPeersOnce) {
  SeededRng rng(1);
  ReconnectionManager m({}, rng);
  EXPECT_FALSE(m.schedule_reconnect("mdns", false, t0));
  EXPECT_TRUE(m.schedule_reconnect("p", true, t0));
  EXPECT_TRUE(m.schedule_reconnect("p", true, t0 + 30s));  // no reset
  EXPECT_EQ(m.state("p")->next_attempt, t0 + 1s);
  EXPECT_TRUE(m.due_reconnections(t0 + 999ms).empty());
  EXPECT_EQ(m.due_reconnections(t0 + 1s), std::vector<std::string>{"p"});
  EXPECT_EQ(m.next_due(), t0 + 1s);
  ReconnectionManager off(ReconnectionPolicy::disabled(), rng);
  EXPECT_FALSE(off.schedule_reconnect("p", true, t0));
}

TEST(Reconnection, FailuresBackOffAndExhaustionRemoves) {
  SeededRng rng(5);
  ReconnectionPolicy p;
  p.initial_delay = 100ms;
  p.max_retries = 5;
  p.jitter = 0;
  ReconnectionManager m(p, rng);
  m.schedule_reconnect("p", true, t0);
  Instant t = t0;
  const Duration expected[] = {200ms, 400ms, 800ms, 1600ms};
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(m.failed("p", "refused", t));
    EXPECT_EQ(m.state("p")->next_attempt - t, expected[i]);
    EXPECT_EQ(m.state("p")->attempts, static_cast<std::uint32_t>(i + 1));
    EXPECT_EQ(m.state("p")->last_error, "refused");
  }
  EXPECT_FALSE(m.failed("p", "refused", t));  // 5th failure
  EXPECT_FALSE(m.is_pending("p"));            // fixed: nothing left pending
  EXPECT_FALSE(m.failed("unknown", "x", t));
  m.schedule_reconnect("q", true, t);
  m.reconnected("q");
  EXPECT_EQ(m.pending_count(), 0u);
}

TEST(Reconnection, MassReconnectHalfSucceed) {
  SeededRng rng(9);
  ReconnectionManager m({}, rng);
  for (int i = 0; i < 50; ++i) m.schedule_reconnect("p" + std::to_string(i), true, t0);
  for (int i = 0; i < 50; ++i) {
    if (i % 2 == 0)
      m.reconnected("p" + std::to_string(i));
    else
      EXPECT_TRUE(m.failed("p" + std::to_string(i), "x", t0 + 1s));
  }
  EXPECT_EQ(m.pending_count(), 25u);
}

}  // namespace
}  // namespace peat::transport
