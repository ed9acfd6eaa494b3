#include "peat/beacon/janitor.hpp"

namespace peat::beacon {

BeaconJanitor::BeaconJanitor(EventLoop& loop, BeaconObserver& observer, Duration interval)
    : loop_(loop), observer_(observer), interval_(interval) {}

BeaconJanitor::~BeaconJanitor() {
  stop();
}

void BeaconJanitor::start() {
  if (running_) return;
  running_ = true;
  timer_ = loop_.call_after(interval_, [this] { tick(); });
}

void BeaconJanitor::stop() {
  if (!running_) return;
  running_ = false;
  loop_.cancel(timer_);
}

void BeaconJanitor::tick() {
  if (!running_) return;
  removed_total_ += observer_.expire(loop_.unix_millis() / 1000).size();
  timer_ = loop_.call_after(interval_, [this] { tick(); });
}

}  // namespace peat::beacon
