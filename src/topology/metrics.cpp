#include "peat/topology/metrics.hpp"

namespace peat::topology {

#define PEAT_LOCKED std::lock_guard<std::mutex> lock(mu_)

void InMemoryMetrics::set_parent_id(std::optional<std::string> id) {
  PEAT_LOCKED;
  s_.parent_id = std::move(id);
}
void InMemoryMetrics::set_linked_peer_count(std::size_t n) {
  PEAT_LOCKED;
  s_.linked_peer_count = n;
}
void InMemoryMetrics::set_lateral_peer_count(std::size_t n) {
  PEAT_LOCKED;
  s_.lateral_peer_count = n;
}
void InMemoryMetrics::set_hierarchy_level(HierarchyLevel level) {
  PEAT_LOCKED;
  s_.hierarchy_level = level;
}
void InMemoryMetrics::set_node_role(NodeRole role) {
  PEAT_LOCKED;
  s_.node_role = role;
}
void InMemoryMetrics::set_parent_connected(bool connected) {
  PEAT_LOCKED;
  s_.parent_connected = connected;
}
void InMemoryMetrics::set_connection_uptime(Duration uptime) {
  PEAT_LOCKED;
  s_.connection_uptime = uptime;
}
void InMemoryMetrics::increment_retry_attempts() {
  PEAT_LOCKED;
  ++s_.retry_attempts_total;
}
void InMemoryMetrics::record_connection_success(Instant at) {
  PEAT_LOCKED;
  s_.last_connection_success = at;
}
void InMemoryMetrics::increment_parent_switches() {
  PEAT_LOCKED;
  ++s_.parent_switches_total;
}
void InMemoryMetrics::record_failover_duration(Duration d) {
  PEAT_LOCKED;
  s_.last_failover_duration = d;
}
void InMemoryMetrics::record_failover_retry_attempts(std::uint32_t n) {
  PEAT_LOCKED;
  s_.last_failover_retry_attempts = n;
}
void InMemoryMetrics::record_failover_buffer_usage(std::size_t used, std::size_t max) {
  PEAT_LOCKED;
  s_.last_failover_buffer_usage = std::make_pair(used, max);
}
void InMemoryMetrics::increment_telemetry_sent() {
  PEAT_LOCKED;
  ++s_.telemetry_sent_total;
}
void InMemoryMetrics::increment_telemetry_buffered() {
  PEAT_LOCKED;
  ++s_.telemetry_buffered_total;
}
void InMemoryMetrics::set_buffer_utilization(std::size_t current, std::size_t max) {
  PEAT_LOCKED;
  s_.buffer_current = current;
  s_.buffer_max = max;
}
void InMemoryMetrics::record_evaluation_duration(Duration d) {
  PEAT_LOCKED;
  s_.last_evaluation_duration = d;
}
void InMemoryMetrics::increment_event_counter(const std::string& event_type) {
  PEAT_LOCKED;
  ++events_[event_type];
}

#undef PEAT_LOCKED

std::uint64_t InMemoryMetrics::event_count(const std::string& event_type) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = events_.find(event_type);
  return it == events_.end() ? 0 : it->second;
}

MetricsSnapshot InMemoryMetrics::snapshot() const {
  MetricsSnapshot out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out = s_;
  }
  out.peer_selected_count = event_count("PeerSelected");
  out.peer_lost_count = event_count("PeerLost");
  out.peer_changed_count = event_count("PeerChanged");
  out.role_changed_count = event_count("RoleChanged");
  out.level_changed_count = event_count("LevelChanged");
  return out;
}

}  // namespace peat::topology
