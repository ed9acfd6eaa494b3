// Parent ("selected peer") selection: which higher-level node this node attaches to.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "peat/beacon/types.hpp"

namespace peat::topology {

struct SelectionConfig {
  double mobility_weight = 0.3;
  double resource_weight = 0.3;
  double battery_weight = 0.2;
  double proximity_weight = 0.2;
  std::optional<double> max_distance_meters = 10000.0;
  std::size_t max_children_per_parent = 10;

  static SelectionConfig defaults() { return {}; }
  static SelectionConfig tactical() { return {0.4, 0.25, 0.15, 0.2, 2000.0, 5}; }
  static SelectionConfig distributed() { return {0.2, 0.4, 0.2, 0.2, std::nullopt, 15}; }
};

struct PeerCandidate {
  beacon::GeographicBeacon beacon;
  double score = 0;
  double distance_meters = 0;
};

class PeerSelector {
 public:
  PeerSelector(SelectionConfig config, beacon::GeoPosition own_position,
               beacon::HierarchyLevel own_level)
      : config_(config), position_(own_position), level_(own_level) {}

  // Valid iff higher level, within max distance (when set) and able to parent.
  bool is_valid(const beacon::GeographicBeacon& candidate) const;
  // Higher is better; see docs/topology.md for the formula.
  double score(const beacon::GeographicBeacon& candidate) const;
  // Best valid candidate; ties keep the earlier one.
  std::optional<PeerCandidate> select_best(
      const std::vector<beacon::GeographicBeacon>& nearby) const;
  // All valid candidates, best first (stable).
  std::vector<PeerCandidate> rank(const std::vector<beacon::GeographicBeacon>& nearby) const;

  const SelectionConfig& config() const { return config_; }

 private:
  SelectionConfig config_;
  beacon::GeoPosition position_;
  beacon::HierarchyLevel level_;
};

}  // namespace peat::topology
