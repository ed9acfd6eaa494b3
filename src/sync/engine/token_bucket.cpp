#include "peat/sync/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace peat::sync {

TokenBucket::TokenBucket(std::uint64_t rate, std::uint64_t capacity, Instant now)
    : rate_(rate),
      capacity_(static_cast<double>(std::max<std::uint64_t>(capacity, 1))),
      tokens_(capacity_),
      last_(now) {}

void TokenBucket::refill(Instant now) {
  if (now <= last_) return;
  double secs = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(capacity_, tokens_ + secs * static_cast<double>(rate_));
  last_ = now;
}

double TokenBucket::tokens(Instant now) {
  refill(now);
  return tokens_;
}

bool TokenBucket::try_take(std::uint64_t n, Instant now) {
  if (unlimited()) return true;
  refill(now);
  double need = std::min(static_cast<double>(n), capacity_);
  if (tokens_ + 1e-9 < need) return false;
  tokens_ -= static_cast<double>(n);  // may go negative for messages above the capacity
  return true;
}

Duration TokenBucket::wait_for(std::uint64_t n, Instant now) {
  if (unlimited()) return Duration::zero();
  refill(now);
  double need = std::min(static_cast<double>(n), capacity_);
  if (tokens_ >= need) return Duration::zero();
  double secs = (need - tokens_) / static_cast<double>(rate_);
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(secs)) +
         std::chrono::microseconds(1);
}

}  // namespace peat::sync
