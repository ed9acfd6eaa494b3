// IoLoop: the EventLoop of a real node, one Asio io_context run by one thread.
// Asio stays out of this header; adapters reach the io_context through src/runtime/asio.hpp.
#pragma once

#include <memory>

#include "peat/common/event_loop.hpp"

namespace peat::runtime {

class IoLoop final : public EventLoop {
 public:
  IoLoop();
  ~IoLoop() override;
  IoLoop(const IoLoop&) = delete;
  IoLoop& operator=(const IoLoop&) = delete;

  Instant now() const override;
  UnixMillis unix_millis() const override;
  void post(std::function<void()> task) override;
  TimerId call_after(Duration delay, std::function<void()> task) override;
  void cancel(TimerId timer) override;

  // Runs until stop() or until there is no work left.
  void run();
  // Runs for at most `limit`, then returns (tests use this to stay bounded).
  void run_for(Duration limit);
  // Runs until `done()` is true or `limit` passes; returns done().
  bool run_until(const std::function<bool()>& done, Duration limit);
  // Thread-safe.
  void stop();

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace peat::runtime
