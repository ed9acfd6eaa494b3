#include "peat/sim/sim_loop.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace peat::sim {
namespace {

using namespace std::chrono_literals;

TEST(SimLoop, TimersRunInVirtualTimeOrder) {
  SimLoop loop;
  Instant t0 = loop.now();
  std::vector<std::pair<int, Duration>> order;
  loop.call_after(20ms, [&] { order.emplace_back(2, loop.now() - t0); });
  loop.call_after(5ms, [&] { order.emplace_back(1, loop.now() - t0); });
  loop.call_after(5ms, [&] { order.emplace_back(11, loop.now() - t0); });  // same time: FIFO
  EXPECT_EQ(loop.run_until_idle(), 3u);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0], std::make_pair(1, Duration(5ms)));
  EXPECT_EQ(order[1], std::make_pair(11, Duration(5ms)));
  EXPECT_EQ(order[2], std::make_pair(2, Duration(20ms)));
}

TEST(SimLoop, CancelAndRunUntilDeadline) {
  SimLoop loop;
  bool a = false, b = false;
  auto id = loop.call_after(1s, [&] { a = true; });
  loop.call_after(3s, [&] { b = true; });
  loop.cancel(id);
  loop.cancel(id);  // no-op
  loop.run_for(2s);
  EXPECT_FALSE(a);
  EXPECT_FALSE(b);
  EXPECT_EQ(loop.elapsed(), Duration(2s));
  loop.run_for(1s);
  EXPECT_TRUE(b);
  EXPECT_EQ(loop.pending(), 0u);
}

TEST(SimLoop, PostRunsAtCurrentTimeAndUnixClockAdvances) {
  SimLoop loop(Instant{}, 1000);
  loop.run_for(1500ms);
  EXPECT_EQ(loop.unix_millis(), 2500u);
  int ran = 0;
  loop.post([&] { ++ran; });
  EXPECT_TRUE(loop.step());
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(loop.elapsed(), Duration(1500ms));
  EXPECT_FALSE(loop.step());
}

TEST(SimLoop, BudgetStopsALivelock) {
  SimLoop loop;
  std::function<void()> again = [&] { loop.post(again); };
  loop.post(again);
  EXPECT_EQ(loop.run_until_idle(1000), 1000u);
  EXPECT_FALSE(loop.run_until([] { return false; }, 1s, 500));
}

TEST(SimLoop, RunUntilPredicate) {
  SimLoop loop;
  int n = 0;
  for (int i = 1; i <= 10; ++i) loop.call_after(i * 1ms, [&] { ++n; });
  EXPECT_TRUE(loop.run_until([&] { return n == 4; }, 1s));
  EXPECT_EQ(loop.elapsed(), Duration(4ms));
  EXPECT_FALSE(loop.run_until([&] { return n == 100; }, 1s));
  EXPECT_EQ(n, 10);
}

}  // namespace
}  // namespace peat::sim
