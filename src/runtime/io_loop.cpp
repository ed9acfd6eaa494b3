#include "peat/runtime/io_loop.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <unordered_map>

#include "runtime/asio.hpp"

namespace peat::runtime {

struct IoLoop::Impl {
  boost::asio::io_context context;
  std::unordered_map<TimerId, std::unique_ptr<boost::asio::steady_timer>> timers;
  TimerId next_timer = 1;
  SystemClock clock;
};

boost::asio::io_context& asio_context(IoLoop& loop) {
  return loop.impl().context;
}

IoLoop::IoLoop() : impl_(std::make_unique<Impl>()) {}
IoLoop::~IoLoop() = default;

Instant IoLoop::now() const {
  return impl_->clock.now();
}
UnixMillis IoLoop::unix_millis() const {
  return impl_->clock.unix_millis();
}

void IoLoop::post(std::function<void()> task) {
  boost::asio::post(impl_->context, std::move(task));
}

TimerId IoLoop::call_after(Duration delay, std::function<void()> task) {
  TimerId id = impl_->next_timer++;
  auto timer = std::make_unique<boost::asio::steady_timer>(impl_->context, delay);
  timer->async_wait([this, id, task = std::move(task)](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled
    impl_->timers.erase(id);
    task();
  });
  impl_->timers.emplace(id, std::move(timer));
  return id;
}

void IoLoop::cancel(TimerId timer) {
  auto it = impl_->timers.find(timer);
  if (it == impl_->timers.end()) return;
  // Destroying the timer aborts its wait; the handler then sees operation_aborted and returns.
  impl_->timers.erase(it);
}

void IoLoop::run() {
  auto guard = boost::asio::make_work_guard(impl_->context);
  impl_->context.restart();
  impl_->context.run();
}

void IoLoop::run_for(Duration limit) {
  impl_->context.restart();
  impl_->context.run_for(limit);
}

bool IoLoop::run_until(const std::function<bool()>& done, Duration limit) {
  auto deadline = now() + limit;
  impl_->context.restart();
  while (!done() && now() < deadline) {
    impl_->context.run_one_for(std::chrono::milliseconds(10));
    if (impl_->context.stopped()) impl_->context.restart();
  }
  return done();
}

void IoLoop::stop() {
  impl_->context.stop();
}

}  // namespace peat::runtime
