#include "peat/discovery/event_stream.hpp"

#include "peat/discovery/strategy.hpp"

namespace peat::discovery {

void EventStream::push(DiscoveryEvent event) {
  std::function<void()> notify;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(event));
    notify = notify_;
  }
  if (notify) notify();
}

std::optional<DiscoveryEvent> EventStream::try_next() {
  std::lock_guard lock(mu_);
  if (queue_.empty()) return std::nullopt;
  DiscoveryEvent e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

std::vector<DiscoveryEvent> EventStream::drain() {
  std::lock_guard lock(mu_);
  std::vector<DiscoveryEvent> out(std::make_move_iterator(queue_.begin()),
                                  std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

std::size_t EventStream::size() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void EventStream::set_notify(std::function<void()> notify) {
  std::lock_guard lock(mu_);
  notify_ = std::move(notify);
}

Result<std::shared_ptr<EventStream>> DiscoveryStrategy::event_stream() {
  if (taken_) return stream_consumed_error();
  taken_ = true;
  return stream_;
}

}  // namespace peat::discovery
