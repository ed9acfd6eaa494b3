#include "peat/sim/sim_loop.hpp"

namespace peat::sim {

namespace {
std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  // FNV-1a over the 8 bytes of v.
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= 0x100000001b3ULL;
  }
  return h;
}
}  // namespace

SimLoop::SimLoop(Instant start, UnixMillis unix_start)
    : start_(start), now_(start), unix_start_(unix_start) {}

UnixMillis SimLoop::unix_millis() const {
  return unix_start_ +
         static_cast<UnixMillis>(
             std::chrono::duration_cast<std::chrono::milliseconds>(elapsed()).count());
}

void SimLoop::post(std::function<void()> task) {
  std::lock_guard lock(posted_mutex_);
  posted_.push_back(std::move(task));
}

void SimLoop::drain_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(posted_mutex_);
    batch.swap(posted_);
  }
  for (auto& task : batch) schedule(now_, std::move(task));
}

TimerId SimLoop::schedule(Instant when, std::function<void()> task) {
  if (when < now_) when = now_;
  TimerId id = next_id_++;
  Key key{when, next_order_++};
  queue_.emplace(key, Entry{id, std::move(task)});
  by_id_.emplace(id, key);
  return id;
}

TimerId SimLoop::call_after(Duration delay, std::function<void()> task) {
  drain_posted();  // keep posts made before this call ahead of it
  return schedule(now_ + (delay < Duration::zero() ? Duration::zero() : delay), std::move(task));
}

TimerId SimLoop::call_at(Instant when, std::function<void()> task) {
  drain_posted();
  return schedule(when, std::move(task));
}

void SimLoop::cancel(TimerId timer) {
  auto it = by_id_.find(timer);
  if (it == by_id_.end()) return;
  queue_.erase(it->second);
  by_id_.erase(it);
}

bool SimLoop::step() {
  drain_posted();
  if (queue_.empty()) return false;
  auto it = queue_.begin();
  now_ = it->first.first;
  Entry entry = std::move(it->second);
  queue_.erase(it);
  by_id_.erase(entry.id);
  ++events_run_;
  trace_hash_ = mix(trace_hash_, static_cast<std::uint64_t>(elapsed().count()));
  trace_hash_ = mix(trace_hash_, entry.id);
  entry.task();
  return true;
}

std::size_t SimLoop::run_until(Instant deadline, std::size_t max_events) {
  std::size_t ran = 0;
  while (ran < max_events) {
    drain_posted();
    if (queue_.empty() || queue_.begin()->first.first > deadline) {
      if (now_ < deadline) now_ = deadline;
      return ran;
    }
    step();
    ++ran;
  }
  return ran;
}

std::size_t SimLoop::run_for(Duration span, std::size_t max_events) {
  return run_until(now_ + span, max_events);
}

bool SimLoop::run_until(const std::function<bool()>& done, Duration limit, std::size_t max_events) {
  Instant deadline = now_ + limit;
  std::size_t ran = 0;
  while (!done()) {
    if (ran >= max_events) return false;
    drain_posted();
    if (queue_.empty() || queue_.begin()->first.first > deadline) {
      if (now_ < deadline) now_ = deadline;
      return done();
    }
    step();
    ++ran;
  }
  return true;
}

std::size_t SimLoop::run_until_idle(std::size_t max_events) {
  std::size_t ran = 0;
  while (ran < max_events && step()) ++ran;
  return ran;
}

std::size_t SimLoop::pending() const {
  std::lock_guard lock(posted_mutex_);
  return queue_.size() + posted_.size();
}

void SimLoop::trace(std::uint64_t value) {
  trace_hash_ = mix(trace_hash_, value);
}

}  // namespace peat::sim
