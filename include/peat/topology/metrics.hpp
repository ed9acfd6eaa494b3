// Topology metrics: a collector interface (fire-and-forget), a no-op one and an in-memory one
// with a snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "peat/common/clock.hpp"
#include "peat/topology/hierarchy.hpp"

namespace peat::topology {

class MetricsCollector {
 public:
  virtual ~MetricsCollector() = default;
  virtual void set_parent_id(std::optional<std::string> id) = 0;
  virtual void set_linked_peer_count(std::size_t n) = 0;
  virtual void set_lateral_peer_count(std::size_t n) = 0;
  virtual void set_hierarchy_level(HierarchyLevel level) = 0;
  virtual void set_node_role(NodeRole role) = 0;
  virtual void set_parent_connected(bool connected) = 0;
  virtual void set_connection_uptime(Duration uptime) = 0;
  virtual void increment_retry_attempts() = 0;
  virtual void record_connection_success(Instant at) = 0;
  virtual void increment_parent_switches() = 0;
  virtual void record_failover_duration(Duration d) = 0;
  virtual void record_failover_retry_attempts(std::uint32_t n) = 0;
  virtual void record_failover_buffer_usage(std::size_t used, std::size_t max) = 0;
  virtual void increment_telemetry_sent() = 0;
  virtual void increment_telemetry_buffered() = 0;
  virtual void set_buffer_utilization(std::size_t current, std::size_t max) = 0;
  virtual void record_evaluation_duration(Duration d) = 0;
  virtual void record_event_latency(const std::string& event_type, Duration d) = 0;
  virtual void increment_event_counter(const std::string& event_type) = 0;
};

class NoOpMetrics final : public MetricsCollector {
 public:
  void set_parent_id(std::optional<std::string>) override {}
  void set_linked_peer_count(std::size_t) override {}
  void set_lateral_peer_count(std::size_t) override {}
  void set_hierarchy_level(HierarchyLevel) override {}
  void set_node_role(NodeRole) override {}
  void set_parent_connected(bool) override {}
  void set_connection_uptime(Duration) override {}
  void increment_retry_attempts() override {}
  void record_connection_success(Instant) override {}
  void increment_parent_switches() override {}
  void record_failover_duration(Duration) override {}
  void record_failover_retry_attempts(std::uint32_t) override {}
  void record_failover_buffer_usage(std::size_t, std::size_t) override {}
  void increment_telemetry_sent() override {}
  void increment_telemetry_buffered() override {}
  void set_buffer_utilization(std::size_t, std::size_t) override {}
  void record_evaluation_duration(Duration) override {}
  void record_event_latency(const std::string&, Duration) override {}
  void increment_event_counter(const std::string&) override {}
};

struct MetricsSnapshot {
  std::optional<std::string> parent_id;
  std::size_t linked_peer_count = 0;
  std::size_t lateral_peer_count = 0;
  std::optional<HierarchyLevel> hierarchy_level;
  std::optional<NodeRole> node_role;
  bool parent_connected = false;
  Duration connection_uptime{};
  std::uint64_t retry_attempts_total = 0;
  std::optional<Instant> last_connection_success;
  std::uint64_t parent_switches_total = 0;
  std::optional<Duration> last_failover_duration;
  std::optional<std::uint32_t> last_failover_retry_attempts;
  std::optional<std::pair<std::size_t, std::size_t>> last_failover_buffer_usage;
  std::uint64_t telemetry_sent_total = 0;
  std::uint64_t telemetry_buffered_total = 0;
  std::size_t buffer_current = 0;
  std::size_t buffer_max = 0;
  std::optional<Duration> last_evaluation_duration;
  std::uint64_t peer_selected_count = 0;
  std::uint64_t peer_lost_count = 0;
  std::uint64_t peer_changed_count = 0;
  std::uint64_t role_changed_count = 0;
  std::uint64_t level_changed_count = 0;
};

// Thread-safe in-memory collector (event latencies are not kept).
class InMemoryMetrics final : public MetricsCollector {
 public:
  void set_parent_id(std::optional<std::string> id) override;
  void set_linked_peer_count(std::size_t n) override;
  void set_lateral_peer_count(std::size_t n) override;
  void set_hierarchy_level(HierarchyLevel level) override;
  void set_node_role(NodeRole role) override;
  void set_parent_connected(bool connected) override;
  void set_connection_uptime(Duration uptime) override;
  void increment_retry_attempts() override;
  void record_connection_success(Instant at) override;
  void increment_parent_switches() override;
  void record_failover_duration(Duration d) override;
  void record_failover_retry_attempts(std::uint32_t n) override;
  void record_failover_buffer_usage(std::size_t used, std::size_t max) override;
  void increment_telemetry_sent() override;
  void increment_telemetry_buffered() override;
  void set_buffer_utilization(std::size_t current, std::size_t max) override;
  void record_evaluation_duration(Duration d) override;
  void record_event_latency(const std::string&, Duration) override {}
  void increment_event_counter(const std::string& event_type) override;

  MetricsSnapshot snapshot() const;
  std::uint64_t event_count(const std::string& event_type) const;

 private:
  mutable std::mutex mu_;
  MetricsSnapshot s_;
  std::map<std::string, std::uint64_t> events_;
};

}  // namespace peat::topology
