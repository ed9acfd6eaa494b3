// Beacon timing and range presets (values as in the Rust crate's BeaconConfig).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

namespace peat::beacon {

struct BeaconConfig {
  std::size_t geohash_precision = 7;
  bool track_all = false;  // observe every beacon, not only the own cell and its neighbours
  std::optional<double> max_distance_meters = 5000.0;
  std::chrono::seconds broadcast_interval{5};
  std::chrono::seconds ttl{30};
  std::chrono::seconds cleanup_interval{5};

  static BeaconConfig defaults() { return {}; }
  static BeaconConfig tactical() {
    return {8,
            false,
            2000.0,
            std::chrono::seconds(3),
            std::chrono::seconds(15),
            std::chrono::seconds(3)};
  }
  static BeaconConfig distributed() {
    return {5,
            true,
            std::nullopt,
            std::chrono::seconds(10),
            std::chrono::seconds(60),
            std::chrono::seconds(10)};
  }
  static BeaconConfig hybrid() {
    return {6,
            false,
            10000.0,
            std::chrono::seconds(5),
            std::chrono::seconds(30),
            std::chrono::seconds(5)};
  }
};

}  // namespace peat::beacon
