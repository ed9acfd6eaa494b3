#include "peat/topology/partition.hpp"

#include <algorithm>
#include <cmath>

namespace peat::topology {

Duration PartitionConfig::backoff(std::uint32_t attempt) const {
  const double base = static_cast<double>(initial_backoff.count());
  const double scaled = base * std::pow(backoff_multiplier, static_cast<double>(attempt));
  const double cap = static_cast<double>(max_backoff.count());
  return Duration(static_cast<Duration::rep>(std::min(scaled, cap)));
}

std::optional<PartitionEvent> PartitionDetector::check_partition(
    const std::map<std::string, beacon::GeographicBeacon>& beacons, Instant now) {
  std::size_t higher = 0;
  for (const auto& [id, b] : beacons) {
    if (b.operational && b.hierarchy_level > level_) ++higher;
  }
  return check(higher >= config_.min_higher_level_beacons, higher, now);
}

std::optional<PartitionEvent> PartitionDetector::check(bool connected, std::size_t visible,
                                                       Instant now) {
  if (connected) {
    std::optional<PartitionEvent> out;
    if (partitioned_) {
      PartitionHealed healed{visible, now - partition_start_};
      if (handler_) handler_->on_partition_healed(healed, now);
      out = healed;
    }
    partitioned_ = false;
    attempts_ = 0;
    first_attempt_.reset();
    last_attempt_.reset();
    return out;
  }
  if (last_attempt_ && now - *last_attempt_ < config_.backoff(attempts_)) return std::nullopt;
  if (!first_attempt_) first_attempt_ = now;
  last_attempt_ = now;
  ++attempts_;
  if (attempts_ >= config_.min_detection_attempts && !partitioned_) {
    partitioned_ = true;
    partition_start_ = now;
    PartitionDetected detected{attempts_, now - *first_attempt_};
    if (handler_) handler_->on_partition_detected(detected, now);
    return detected;
  }
  return std::nullopt;
}

void AutonomousOperationHandler::on_partition_detected(const PartitionDetected& event,
                                                       Instant now) {
  if (is_autonomous()) {
    ++duplicates_;
    return;
  }
  state_ = AutonomousActive{now, event.attempts};
}

void AutonomousOperationHandler::on_partition_healed(const PartitionHealed&, Instant) {
  if (!is_autonomous()) {
    ++duplicates_;
    return;
  }
  state_ = AutonomousNormal{};
}

}  // namespace peat::topology
