// Token bucket in bytes with an injected clock: refills continuously at `rate` bytes/s up to
// `capacity`. A message larger than the capacity may go once the bucket is full (it then runs
// into debt), so a cap never blocks a big message forever.
#pragma once

#include <cstdint>

#include "peat/common/clock.hpp"

namespace peat::sync {

class TokenBucket {
 public:
  // rate 0 = unlimited (every take succeeds).
  TokenBucket(std::uint64_t rate_bytes_per_s, std::uint64_t capacity_bytes, Instant now);

  bool unlimited() const { return rate_ == 0; }
  // Takes n bytes if available at `now`.
  bool try_take(std::uint64_t n, Instant now);
  // How long until try_take(n) can succeed (zero when it can now).
  Duration wait_for(std::uint64_t n, Instant now);
  double tokens(Instant now);

 private:
  void refill(Instant now);
  std::uint64_t rate_;
  double capacity_;
  double tokens_;
  Instant last_;
};

}  // namespace peat::sync
