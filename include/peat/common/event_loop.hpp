// EventLoop: where protocol drivers run. One thread, posted tasks and timers, and a clock.
// Real nodes use runtime::IoLoop (Asio); the simulator supplies a virtual-time loop, so the
// same driver code runs in both.
#pragma once

#include <cstdint>
#include <functional>

#include "peat/common/clock.hpp"

namespace peat {

using TimerId = std::uint64_t;

class EventLoop {
 public:
  virtual ~EventLoop() = default;

  virtual Instant now() const = 0;
  // Wall time in ms since the Unix epoch (virtual in the simulator).
  virtual UnixMillis unix_millis() const = 0;
  // Runs `task` soon, on the loop's thread. Safe to call from any thread.
  virtual void post(std::function<void()> task) = 0;
  // Runs `task` once after `delay`; the id can cancel it. Loop thread only.
  virtual TimerId call_after(Duration delay, std::function<void()> task) = 0;
  // Cancelling a timer that already ran or was cancelled is a no-op.
  virtual void cancel(TimerId timer) = 0;
};

}  // namespace peat
