// A manually advanced clock for discovery tests.
#pragma once

#include "peat/common/clock.hpp"

namespace peat::discovery::testing {

class FakeClock final : public Clock {
 public:
  Instant now() const override { return now_; }
  UnixMillis unix_millis() const override { return 1'700'000'000'000; }
  void advance(Duration d) { now_ += d; }

 private:
  Instant now_ = Instant{} + std::chrono::hours(1);
};

}  // namespace peat::discovery::testing
