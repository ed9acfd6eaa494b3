// TopologyBuilder: beacon-driven formation. Each evaluation looks at the nearby beacons and
// updates role/level (via a strategy), the selected parent, children and lateral peers, emitting
// TopologyEvents. Pure: callers pass beacons and `now`; start() runs it periodically on a loop.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "peat/common/event_loop.hpp"
#include "peat/topology/config.hpp"
#include "peat/topology/hierarchy.hpp"
#include "peat/topology/partition.hpp"
#include "peat/topology/state.hpp"

namespace peat::topology {

class TopologyBuilder {
 public:
  TopologyBuilder(TopologyConfig config, std::string node_id, beacon::GeoPosition position,
                  HierarchyLevel level);

  // Optional: role/level from a strategy (needs the own profile).
  void set_strategy(std::shared_ptr<const HierarchyStrategy> strategy, NodeProfile profile);
  // Optional: a partition detector checked on every evaluation.
  void set_partition_detector(PartitionDetector* detector) { detector_ = detector; }

  // One evaluation pass (steps 1-7 of the reference loop). The node's own beacon is ignored.
  std::vector<TopologyEvent> evaluate(const std::vector<GeographicBeacon>& nearby, Instant now);
  // Re-pick the parent: selects when none; switches only after the cooldown and when the best
  // candidate scores more than 1.1 x the current parent.
  std::vector<TopologyEvent> reevaluate_peer(const std::vector<GeographicBeacon>& nearby,
                                             Instant now);

  // Periodic evaluation on a loop (first pass immediate; every reevaluation_interval, or 60 s).
  void start(EventLoop& loop, std::function<std::vector<GeographicBeacon>()> nearby,
             std::function<void(const TopologyEvent&)> sink);
  void stop();

  void update_position(beacon::GeoPosition position) { position_ = position; }
  const TopologyState& state() const { return state_; }
  const std::optional<SelectedPeer>& selected_peer() const { return state_.selected_peer; }
  const TopologyConfig& config() const { return config_; }
  const std::string& node_id() const { return node_id_; }

 private:
  void tick();
  std::vector<GeographicBeacon> others(const std::vector<GeographicBeacon>& nearby) const;

  TopologyConfig config_;
  std::string node_id_;
  beacon::GeoPosition position_;
  HierarchyLevel base_level_;
  std::shared_ptr<const HierarchyStrategy> strategy_;
  std::optional<NodeProfile> profile_;
  PartitionDetector* detector_ = nullptr;
  TopologyState state_;

  EventLoop* loop_ = nullptr;
  TimerId timer_ = 0;
  std::function<std::vector<GeographicBeacon>()> nearby_fn_;
  std::function<void(const TopologyEvent&)> sink_;
};

}  // namespace peat::topology
