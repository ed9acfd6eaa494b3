// Time as protocol code sees it. Protocol state machines never read a clock: callers pass `now`,
// so the same code runs on real sockets and in the deterministic simulator.
#pragma once

#include <chrono>
#include <cstdint>

namespace peat {

using Duration = std::chrono::nanoseconds;
using Instant = std::chrono::steady_clock::time_point;

// Milliseconds since the Unix epoch, as carried on the wire.
using UnixMillis = std::uint64_t;

// Source of time for adapters; the simulator supplies its own.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
  virtual UnixMillis unix_millis() const = 0;
};

class SystemClock final : public Clock {
 public:
  Instant now() const override { return std::chrono::steady_clock::now(); }
  UnixMillis unix_millis() const override {
    return static_cast<UnixMillis>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
  }
};

}  // namespace peat
