// Partition detection and autonomous operation (Rust: topology/partition.rs, autonomous.rs).
//
// A node is connected while it sees at least `min_higher_level_beacons` operational beacons above
// its level. When not connected, check attempts are spaced by backoff(n) = min(2 s x 2^n, 30 s);
// the 3rd failed attempt declares a partition. Any connected check heals it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "peat/beacon/types.hpp"
#include "peat/common/clock.hpp"

namespace peat::topology {

struct PartitionConfig {
  std::uint32_t min_detection_attempts = 3;
  Duration initial_backoff = std::chrono::seconds(2);
  Duration max_backoff = std::chrono::seconds(30);
  double backoff_multiplier = 2.0;
  std::size_t min_higher_level_beacons = 1;

  Duration backoff(std::uint32_t attempt) const;
};

struct PartitionDetected {
  std::uint32_t attempts = 0;
  // Time from the first failed attempt to detection (the reference measures from the last
  // attempt, which is always ~0; this port reports the useful figure).
  Duration detection_duration{};
};
struct PartitionHealed {
  std::size_t visible_beacons = 0;
  Duration partition_duration{};
};
using PartitionEvent = std::variant<PartitionDetected, PartitionHealed>;

class PartitionHandler {
 public:
  virtual ~PartitionHandler() = default;
  virtual void on_partition_detected(const PartitionDetected& event, Instant now) = 0;
  virtual void on_partition_healed(const PartitionHealed& event, Instant now) = 0;
};

class PartitionDetector {
 public:
  PartitionDetector(beacon::HierarchyLevel level, PartitionConfig config = {})
      : level_(level), config_(config) {}

  // Reference check: counts operational beacons above this node's level.
  std::optional<PartitionEvent> check_partition(
      const std::map<std::string, beacon::GeographicBeacon>& beacons, Instant now);
  // The same state machine on a precomputed connectivity verdict (used by quorum-based drivers).
  std::optional<PartitionEvent> check(bool connected, std::size_t visible, Instant now);

  void set_level(beacon::HierarchyLevel level) { level_ = level; }
  void set_handler(PartitionHandler* handler) { handler_ = handler; }
  bool is_partitioned() const { return partitioned_; }
  std::uint32_t detection_attempts() const { return attempts_; }
  const PartitionConfig& config() const { return config_; }

 private:
  beacon::HierarchyLevel level_;
  PartitionConfig config_;
  PartitionHandler* handler_ = nullptr;
  std::uint32_t attempts_ = 0;
  std::optional<Instant> first_attempt_;
  std::optional<Instant> last_attempt_;
  bool partitioned_ = false;
  Instant partition_start_{};
};

struct AutonomousNormal {};
struct AutonomousActive {
  Instant entered_at{};
  std::uint32_t detection_attempts = 0;
};
using AutonomousState = std::variant<AutonomousNormal, AutonomousActive>;

// Enters autonomous operation on partition and leaves it on heal (duplicates are ignored).
class AutonomousOperationHandler final : public PartitionHandler {
 public:
  void on_partition_detected(const PartitionDetected& event, Instant now) override;
  void on_partition_healed(const PartitionHealed& event, Instant now) override;
  bool is_autonomous() const { return std::holds_alternative<AutonomousActive>(state_); }
  const AutonomousState& state() const { return state_; }
  std::uint32_t ignored_duplicates() const { return duplicates_; }

 private:
  AutonomousState state_;
  std::uint32_t duplicates_ = 0;
};

}  // namespace peat::topology
