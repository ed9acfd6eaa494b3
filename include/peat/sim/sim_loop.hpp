// SimLoop: a deterministic, single-threaded EventLoop with virtual time. Nothing happens between
// events: time jumps straight to the next timer, so an hour of simulated mesh runs in milliseconds
// and the same sequence of calls always produces the same run.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "peat/common/event_loop.hpp"

namespace peat::sim {

class SimLoop final : public EventLoop {
 public:
  // Upper bound on events one run_* call executes, so a livelocked test ends instead of hanging.
  static constexpr std::size_t kDefaultMaxEvents = 50'000'000;

  // Virtual time starts at `start` (steady clock) and `unix_start` (wall clock, ms).
  explicit SimLoop(Instant start = Instant{} + std::chrono::hours(1),
                   UnixMillis unix_start = 1'700'000'000'000ULL);
  SimLoop(const SimLoop&) = delete;
  SimLoop& operator=(const SimLoop&) = delete;

  Instant now() const override { return now_; }
  UnixMillis unix_millis() const override;
  // Thread-safe; the task runs at the current virtual time, after tasks already due.
  void post(std::function<void()> task) override;
  TimerId call_after(Duration delay, std::function<void()> task) override;
  void cancel(TimerId timer) override;
  TimerId call_at(Instant when, std::function<void()> task);

  // Runs the next event, moving virtual time to it. False when nothing is scheduled.
  bool step();
  // Runs every event due at or before `deadline`, then sets now() = deadline (unless the event
  // budget ran out first). Returns the number of events run.
  std::size_t run_until(Instant deadline, std::size_t max_events = kDefaultMaxEvents);
  std::size_t run_for(Duration span, std::size_t max_events = kDefaultMaxEvents);
  // Runs until `done()` holds (checked after every event) or `limit` of virtual time passes.
  bool run_until(const std::function<bool()>& done, Duration limit,
                 std::size_t max_events = kDefaultMaxEvents);
  // Runs until no event is left (or the budget is spent); returns events run.
  std::size_t run_until_idle(std::size_t max_events = kDefaultMaxEvents);

  std::size_t pending() const;
  std::uint64_t events_run() const { return events_run_; }
  Duration elapsed() const { return now_ - start_; }

  // Event trace: every executed event and every value passed to trace() is folded into one
  // 64-bit hash. Equal seeds and equal inputs give equal hashes; tests compare them.
  void trace(std::uint64_t value);
  std::uint64_t trace_hash() const { return trace_hash_; }

 private:
  using Key = std::pair<Instant, std::uint64_t>;  // (time, insertion order)
  struct Entry {
    TimerId id;
    std::function<void()> task;
  };
  void drain_posted();
  TimerId schedule(Instant when, std::function<void()> task);

  Instant start_;
  Instant now_;
  UnixMillis unix_start_;
  std::map<Key, Entry> queue_;
  std::unordered_map<TimerId, Key> by_id_;
  std::uint64_t next_order_ = 0;
  TimerId next_id_ = 1;
  std::uint64_t events_run_ = 0;
  std::uint64_t trace_hash_ = 0xcbf29ce484222325ULL;
  mutable std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace peat::sim
