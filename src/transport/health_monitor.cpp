#include "peat/transport/health_monitor.hpp"

#include <algorithm>
#include <cmath>

namespace peat::transport {

using namespace std::chrono_literals;

HealthConfig HealthConfig::aggressive() {
  return {2s, 2, 3, 500, 5, true, 20};
}
HealthConfig HealthConfig::relaxed() {
  return {15s, 3, 6, 2000, 20, true, 20};
}
HealthConfig HealthConfig::disabled() {
  HealthConfig c;
  c.enabled = false;
  return c;
}

const char* to_string(ConnectionState state) {
  switch (state) {
    case ConnectionState::kHealthy:
      return "healthy";
    case ConnectionState::kDegraded:
      return "degraded";
    case ConnectionState::kSuspect:
      return "suspect";
    case ConnectionState::kDead:
      return "dead";
  }
  return "unknown";
}

HealthMonitor::HealthMonitor(HealthConfig config) : config_(config) {}

void HealthMonitor::start_monitoring(const std::string& peer, Instant now) {
  if (!config_.enabled) return;
  Peer p;
  p.last_response = now;
  peers_[peer] = p;
}

void HealthMonitor::stop_monitoring(const std::string& peer) {
  peers_.erase(peer);
}

std::vector<std::string> HealthMonitor::peers_needing_ping(Instant now) const {
  std::vector<std::string> out;
  if (!config_.enabled) return out;
  for (const auto& [id, p] : peers_) {
    if (p.state == ConnectionState::kDead) continue;
    if (p.pending) {
      if (now - p.pending->first > 2 * config_.interval) out.push_back(id);
    } else if (now - p.last_response >= config_.interval) {
      out.push_back(id);
    }
  }
  return out;
}

std::optional<std::uint64_t> HealthMonitor::record_ping_sent(const std::string& peer, Instant now) {
  auto it = peers_.find(peer);
  if (!config_.enabled || it == peers_.end()) return std::nullopt;
  Peer& p = it->second;
  if (p.pending) settle(p, false);  // re-ping: the previous one went unanswered
  std::uint64_t seq = p.next_seq++;
  ++p.pings_sent;
  p.pending = std::make_pair(now, seq);
  return seq;
}

void HealthMonitor::record_pong_received(const std::string& peer, std::uint64_t seq, Instant now) {
  auto it = peers_.find(peer);
  if (!config_.enabled || it == peers_.end()) return;
  Peer& p = it->second;
  auto pending = p.pending;
  p.pending.reset();
  if (!pending) return;
  if (pending->second != seq) {
    settle(p, false);
    return;
  }
  settle(p, true);
  double sample = std::chrono::duration<double, std::milli>(now - pending->first).count();
  if (p.srtt_ms == 0) {
    p.srtt_ms = sample;
    p.rttvar_ms = sample / 2;
  } else {
    p.rttvar_ms = 0.75 * p.rttvar_ms + 0.25 * std::abs(sample - p.srtt_ms);
    p.srtt_ms = 0.875 * p.srtt_ms + 0.125 * sample;
  }
  ++p.pongs_received;
  p.last_response = now;
  p.missed = 0;
  evaluate(peer, p);
}

std::vector<std::string> HealthMonitor::check_timeouts(Instant now) {
  std::vector<std::string> newly_dead;
  if (!config_.enabled) return newly_dead;
  for (auto& [id, p] : peers_) {
    if (p.pending && now - p.pending->first > config_.interval) {
      ++p.missed;
      p.pending.reset();
      settle(p, false);
    }
    ConnectionState before = p.state;
    evaluate(id, p);
    if (p.state == ConnectionState::kDead && before != ConnectionState::kDead) {
      newly_dead.push_back(id);
    }
  }
  return newly_dead;
}

void HealthMonitor::settle(Peer& p, bool answered) const {
  if (config_.loss_window == 0) return;
  p.recent.push_back(answered);
  while (p.recent.size() > config_.loss_window) p.recent.pop_front();
}

std::uint8_t HealthMonitor::loss_percent(const Peer& p) const {
  if (config_.loss_window > 0) {
    if (p.recent.empty()) return 0;
    auto answered = static_cast<double>(std::count(p.recent.begin(), p.recent.end(), true));
    return static_cast<std::uint8_t>(
        std::lround((1.0 - answered / static_cast<double>(p.recent.size())) * 100.0));
  }
  // Unlike Rust, a ping still in flight is not counted as lost (otherwise every check between a
  // ping and its pong reports loss and can flip the peer to Degraded).
  std::uint64_t settled = p.pings_sent - (p.pending ? 1 : 0);
  if (settled == 0) return 0;
  double ratio = static_cast<double>(p.pongs_received) / static_cast<double>(settled);
  return static_cast<std::uint8_t>(std::lround((1.0 - ratio) * 100.0));
}

ConnectionHealth HealthMonitor::health_of(const Peer& p) const {
  ConnectionHealth h;
  h.rtt_ms = static_cast<std::uint32_t>(std::lround(p.srtt_ms));
  h.rtt_variance_ms = static_cast<std::uint32_t>(std::lround(p.rttvar_ms));
  h.packet_loss_percent = loss_percent(p);
  h.state = p.state;
  h.last_activity = p.last_response;
  return h;
}

void HealthMonitor::evaluate(const std::string& id, Peer& p) {
  ConnectionState before = p.state;
  if (p.missed >= config_.dead_after_missed) {
    p.state = ConnectionState::kDead;
  } else if (p.missed >= config_.suspect_after_missed) {
    p.state = ConnectionState::kSuspect;
  } else if (p.srtt_ms > config_.degraded_rtt_ms ||
             loss_percent(p) > config_.degraded_loss_percent) {
    p.state = ConnectionState::kDegraded;
  } else {
    p.state = ConnectionState::kHealthy;
  }
  if (p.state == ConnectionState::kDegraded && before != ConnectionState::kDegraded &&
      on_degraded_) {
    on_degraded_(id, health_of(p));
  }
}

std::optional<ConnectionHealth> HealthMonitor::get_health(const std::string& peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return std::nullopt;
  return health_of(it->second);
}

std::vector<std::string> HealthMonitor::unhealthy_peers() const {
  std::vector<std::string> out;
  for (const auto& [id, p] : peers_) {
    if (p.state != ConnectionState::kHealthy) out.push_back(id);
  }
  return out;
}

std::vector<std::string> HealthMonitor::dead_peers() const {
  std::vector<std::string> out;
  for (const auto& [id, p] : peers_) {
    if (p.state == ConnectionState::kDead) out.push_back(id);
  }
  return out;
}

}  // namespace peat::transport
