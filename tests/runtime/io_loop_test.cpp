#include "peat/runtime/io_loop.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace peat::runtime {
namespace {

using namespace std::chrono_literals;

TEST(IoLoop, TimersFireInDeadlineOrder) {
  IoLoop loop;
  std::vector<int> order;
  loop.call_after(20ms, [&] { order.push_back(2); });
  loop.call_after(5ms, [&] { order.push_back(1); });
  ASSERT_TRUE(loop.run_until([&] { return order.size() == 2; }, 5s));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(IoLoop, CancelledTimerNeverRuns) {
  IoLoop loop;
  bool cancelled_ran = false, other_ran = false;
  auto id = loop.call_after(1ms, [&] { cancelled_ran = true; });
  loop.cancel(id);
  loop.cancel(id);  // second cancel is a no-op
  loop.call_after(10ms, [&] { other_ran = true; });
  ASSERT_TRUE(loop.run_until([&] { return other_ran; }, 5s));
  EXPECT_FALSE(cancelled_ran);
}

TEST(IoLoop, PostFromAnotherThreadRunsOnLoop) {
  IoLoop loop;
  std::thread::id ran_on;
  std::thread poster([&] { loop.post([&] { ran_on = std::this_thread::get_id(); }); });
  poster.join();
  ASSERT_TRUE(loop.run_until([&] { return ran_on != std::thread::id{}; }, 5s));
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(IoLoop, StopEndsRun) {
  IoLoop loop;
  loop.call_after(1ms, [&] { loop.stop(); });
  loop.run();  // returns because of stop(), although the work guard keeps it alive otherwise
  SUCCEED();
}

}  // namespace
}  // namespace peat::runtime
