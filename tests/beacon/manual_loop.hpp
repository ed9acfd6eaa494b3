// A tiny virtual-time EventLoop for unit tests of timer-driven components.
#pragma once

#include <map>
#include <utility>

#include "peat/common/event_loop.hpp"

namespace peat::testing {

class ManualLoop final : public EventLoop {
 public:
  Instant now() const override { return now_; }
  UnixMillis unix_millis() const override {
    return 1'700'000'000'000ULL +
           static_cast<UnixMillis>(
               std::chrono::duration_cast<std::chrono::milliseconds>(now_ - Instant{}).count());
  }
  void post(std::function<void()> task) override { call_after(Duration::zero(), std::move(task)); }
  TimerId call_after(Duration delay, std::function<void()> task) override {
    const TimerId id = next_++;
    queue_.emplace(std::make_pair(now_ + delay, id), std::move(task));
    return id;
  }
  void cancel(TimerId timer) override {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->first.second == timer) {
        queue_.erase(it);
        return;
      }
    }
  }
  // Runs every task due up to now + span (bounded), then sets the clock there.
  void advance(Duration span) {
    const Instant end = now_ + span;
    for (int guard = 0; guard < 1'000'000 && !queue_.empty(); ++guard) {
      auto it = queue_.begin();
      if (it->first.first > end) break;
      now_ = it->first.first;
      auto task = std::move(it->second);
      queue_.erase(it);
      task();
    }
    now_ = end;
  }
  std::size_t pending() const { return queue_.size(); }

 private:
  Instant now_{};
  TimerId next_ = 1;
  std::map<std::pair<Instant, TimerId>, std::function<void()>> queue_;
};

}  // namespace peat::testing
