// BeaconJanitor: periodically expires stale beacons from an observer on an EventLoop.
#pragma once

#include <cstdint>

#include "peat/beacon/observer.hpp"
#include "peat/common/event_loop.hpp"

namespace peat::beacon {

class BeaconJanitor {
 public:
  BeaconJanitor(EventLoop& loop, BeaconObserver& observer, Duration interval);
  ~BeaconJanitor();
  BeaconJanitor(const BeaconJanitor&) = delete;
  BeaconJanitor& operator=(const BeaconJanitor&) = delete;

  void start();
  void stop();
  std::uint64_t removed_total() const { return removed_total_; }

 private:
  void tick();

  EventLoop& loop_;
  BeaconObserver& observer_;
  Duration interval_;
  bool running_ = false;
  TimerId timer_ = 0;
  std::uint64_t removed_total_ = 0;
};

}  // namespace peat::beacon
