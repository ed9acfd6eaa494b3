// TopologyConfig: timing, retry and buffering knobs of topology formation (Rust defaults).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "peat/common/clock.hpp"
#include "peat/topology/selection.hpp"

namespace peat::topology {

struct TopologyConfig {
  SelectionConfig selection;
  std::optional<Duration> reevaluation_interval = std::chrono::seconds(30);
  Duration peer_change_cooldown = std::chrono::seconds(60);
  Duration peer_timeout = std::chrono::seconds(180);
  std::optional<std::size_t> max_lateral_connections = 10;  // none = unlimited
  std::uint32_t max_retries = 3;
  Duration initial_backoff = std::chrono::seconds(1);
  Duration max_backoff = std::chrono::seconds(60);
  double backoff_multiplier = 2.0;
  std::size_t max_telemetry_buffer_size = 100;  // 0 disables buffering

  // min(initial x multiplier^attempt, max)
  Duration backoff(std::uint32_t attempt) const;
};

}  // namespace peat::topology
