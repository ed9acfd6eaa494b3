// HealthMonitor: per-peer liveness from pings and pongs (transport-agnostic, sans-I/O). The
// caller sends the pings (the TransportManager does, in its own frames) and passes `now`.
// Thresholds, RTT smoothing and state rules follow the Rust crate (health.rs).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "peat/common/clock.hpp"
#include "peat/transport/transport.hpp"

namespace peat::transport {

struct HealthConfig {
  Duration interval = std::chrono::seconds(5);  // ping period
  std::uint32_t suspect_after_missed = 2;
  std::uint32_t dead_after_missed = 4;
  std::uint32_t degraded_rtt_ms = 1000;     // smoothed RTT above this → Degraded
  std::uint8_t degraded_loss_percent = 10;  // loss above this → Degraded
  bool enabled = true;
  // Loss is measured over the last `loss_window` settled pings (0: since monitoring started, as
  // in Rust, where a link that once lost pings stays Degraded long after it recovered).
  std::uint32_t loss_window = 20;

  static HealthConfig aggressive();  // 2 s, 2, 3, 500 ms, 5 %
  static HealthConfig relaxed();     // 15 s, 3, 6, 2000 ms, 20 %
  static HealthConfig disabled();    // every operation is a no-op
};

const char* to_string(ConnectionState state);  // "healthy", "degraded", "suspect", "dead"

class HealthMonitor {
 public:
  explicit HealthMonitor(HealthConfig config = {});

  void start_monitoring(const std::string& peer, Instant now);
  void stop_monitoring(const std::string& peer);
  // Peers to ping now: not Dead, and either a pending ping older than 2·interval or nothing
  // pending and no response for ≥ interval.
  std::vector<std::string> peers_needing_ping(Instant now) const;
  // Returns the ping's sequence number (nullopt for an unknown peer).
  std::optional<std::uint64_t> record_ping_sent(const std::string& peer, Instant now);
  // Clears the pending ping even if `seq` does not match (as Rust); only a match counts.
  void record_pong_received(const std::string& peer, std::uint64_t seq, Instant now);
  // Counts overdue pings as missed and re-evaluates states; returns peers that just became Dead.
  std::vector<std::string> check_timeouts(Instant now);

  std::optional<ConnectionHealth> get_health(const std::string& peer) const;
  std::vector<std::string> unhealthy_peers() const;  // state != Healthy
  std::vector<std::string> dead_peers() const;
  std::size_t monitored_peer_count() const { return peers_.size(); }
  void clear() { peers_.clear(); }
  // Called when a peer's state changes into Degraded (Rust: PeerEvent::Degraded).
  void set_on_degraded(std::function<void(const std::string&, const ConnectionHealth&)> f) {
    on_degraded_ = std::move(f);
  }
  const HealthConfig& config() const { return config_; }

 private:
  struct Peer {
    Instant last_response{};
    std::uint32_t missed = 0;
    double srtt_ms = 0;
    double rttvar_ms = 0;
    std::uint64_t pings_sent = 0;
    std::uint64_t pongs_received = 0;
    std::deque<bool> recent;  // outcome of the last loss_window settled pings (true = pong)
    ConnectionState state = ConnectionState::kHealthy;
    std::optional<std::pair<Instant, std::uint64_t>> pending;
    std::uint64_t next_seq = 0;
  };
  std::uint8_t loss_percent(const Peer& p) const;
  void settle(Peer& p, bool answered) const;
  ConnectionHealth health_of(const Peer& p) const;
  void evaluate(const std::string& id, Peer& p);

  HealthConfig config_;
  std::map<std::string, Peer> peers_;
  std::function<void(const std::string&, const ConnectionHealth&)> on_degraded_;
};

}  // namespace peat::transport
