// ReconnectionManager: when to retry a lost peer, with exponential backoff and jitter
// (sans-I/O; the caller passes `now` and an Rng). Defaults follow the Rust crate
// (reconnection.rs); see docs/transport.md for where ours differ and why.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "peat/common/clock.hpp"
#include "peat/common/random.hpp"

namespace peat::transport {

enum class JitterMode : std::uint8_t {
  // Uniform random factor in [1 − j, 1 + j] from the Rng, result capped at max_delay: peers that
  // lost the same link retry at different times (no thundering herd). Default.
  kRandom,
  // Rust's formula: factor from (n·2654435761 mod 2³²)/(2³²−1), identical for every peer, applied
  // after the cap (may exceed max_delay by up to j). Kept for comparison and tests.
  kRustDeterministic,
};

struct ReconnectionPolicy {
  bool enabled = true;
  Duration initial_delay = std::chrono::seconds(1);
  Duration max_delay = std::chrono::seconds(60);
  double multiplier = 2.0;
  std::optional<std::uint32_t> max_retries = 10;  // nullopt: retry forever
  double jitter = 0.2;
  JitterMode jitter_mode = JitterMode::kRandom;

  static ReconnectionPolicy aggressive();    // 100 ms, 10 s, ×1.5, 20 retries, jitter 0.1
  static ReconnectionPolicy conservative();  // 5 s, 300 s, ×2, 5 retries, jitter 0.3
  static ReconnectionPolicy disabled();

  // Delay before retry number `attempt` (0-based). `rng` is used only in kRandom mode.
  Duration calculate_delay(std::uint32_t attempt, Rng& rng) const;
  bool should_retry(std::uint32_t attempts) const;
};

struct ReconnectionState {
  std::uint32_t attempts = 0;
  Instant next_attempt{};
  std::string last_error;
};

class ReconnectionManager {
 public:
  ReconnectionManager(ReconnectionPolicy policy, Rng& rng);

  // Only static peers (known addresses) are retried; discovered ones come back via discovery.
  // The first attempt is at now + initial_delay. No-op when already pending. Returns whether
  // the peer is now pending.
  bool schedule_reconnect(const std::string& peer, bool is_static, Instant now);
  std::vector<std::string> due_reconnections(Instant now) const;
  std::optional<Instant> next_due() const;
  void reconnected(const std::string& peer);
  // Records a failed attempt. Returns true with the next attempt scheduled, or false when the
  // retries are exhausted; unlike Rust, an exhausted peer is removed (nothing stays pending).
  bool failed(const std::string& peer, const std::string& error, Instant now);

  std::optional<ReconnectionState> state(const std::string& peer) const;
  bool is_pending(const std::string& peer) const { return pending_.contains(peer); }
  std::size_t pending_count() const { return pending_.size(); }
  std::vector<std::string> pending_peers() const;
  void remove(const std::string& peer) { pending_.erase(peer); }
  void clear() { pending_.clear(); }
  const ReconnectionPolicy& policy() const { return policy_; }

 private:
  ReconnectionPolicy policy_;
  Rng& rng_;
  std::map<std::string, ReconnectionState> pending_;
};

}  // namespace peat::transport
