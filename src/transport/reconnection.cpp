#include "peat/transport/reconnection.hpp"

#include <algorithm>
#include <cmath>

namespace peat::transport {

using namespace std::chrono_literals;

ReconnectionPolicy ReconnectionPolicy::aggressive() {
  ReconnectionPolicy p;
  p.initial_delay = 100ms;
  p.max_delay = 10s;
  p.multiplier = 1.5;
  p.max_retries = 20;
  p.jitter = 0.1;
  return p;
}

ReconnectionPolicy ReconnectionPolicy::conservative() {
  ReconnectionPolicy p;
  p.initial_delay = 5s;
  p.max_delay = 300s;
  p.multiplier = 2.0;
  p.max_retries = 5;
  p.jitter = 0.3;
  return p;
}

ReconnectionPolicy ReconnectionPolicy::disabled() {
  ReconnectionPolicy p;
  p.enabled = false;
  return p;
}

Duration ReconnectionPolicy::calculate_delay(std::uint32_t attempt, Rng& rng) const {
  double base = static_cast<double>(initial_delay.count()) *
                std::pow(multiplier, static_cast<double>(attempt));
  base = std::min(base, static_cast<double>(max_delay.count()));
  double r = 0;
  if (jitter_mode == JitterMode::kRustDeterministic) {
    std::uint64_t h = (static_cast<std::uint64_t>(attempt) * 2654435761ULL) % (1ULL << 32);
    r = static_cast<double>(h) / 4294967295.0;
  } else {
    r = rng.unit();
  }
  double delay = base * (1.0 - jitter + 2.0 * jitter * r);
  if (jitter_mode == JitterMode::kRandom) {
    delay = std::min(delay, static_cast<double>(max_delay.count()));
  }
  return Duration(static_cast<Duration::rep>(std::max(0.0, delay)));
}

bool ReconnectionPolicy::should_retry(std::uint32_t attempts) const {
  return enabled && (!max_retries || attempts < *max_retries);
}

ReconnectionManager::ReconnectionManager(ReconnectionPolicy policy, Rng& rng)
    : policy_(policy), rng_(rng) {}

bool ReconnectionManager::schedule_reconnect(const std::string& peer, bool is_static, Instant now) {
  if (!policy_.enabled || !is_static) return false;
  if (pending_.contains(peer)) return true;
  pending_[peer] = ReconnectionState{0, now + policy_.initial_delay, ""};
  return true;
}

std::vector<std::string> ReconnectionManager::due_reconnections(Instant now) const {
  std::vector<std::string> out;
  for (const auto& [peer, s] : pending_) {
    if (s.next_attempt <= now) out.push_back(peer);
  }
  return out;
}

std::optional<Instant> ReconnectionManager::next_due() const {
  std::optional<Instant> best;
  for (const auto& [peer, s] : pending_) {
    if (!best || s.next_attempt < *best) best = s.next_attempt;
  }
  return best;
}

void ReconnectionManager::reconnected(const std::string& peer) {
  pending_.erase(peer);
}

bool ReconnectionManager::failed(const std::string& peer, const std::string& error, Instant now) {
  auto it = pending_.find(peer);
  if (it == pending_.end()) return false;
  ReconnectionState& s = it->second;
  ++s.attempts;
  s.last_error = error;
  if (!policy_.should_retry(s.attempts)) {
    pending_.erase(it);
    return false;
  }
  s.next_attempt = now + policy_.calculate_delay(s.attempts, rng_);
  return true;
}

std::optional<ReconnectionState> ReconnectionManager::state(const std::string& peer) const {
  auto it = pending_.find(peer);
  if (it == pending_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> ReconnectionManager::pending_peers() const {
  std::vector<std::string> out;
  for (const auto& [peer, s] : pending_) out.push_back(peer);
  return out;
}

}  // namespace peat::transport
