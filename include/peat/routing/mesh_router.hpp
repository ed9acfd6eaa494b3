// MeshRouter: SelectiveRouter + de-duplication + aggregation of upward telemetry per group.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "peat/routing/aggregator.hpp"
#include "peat/routing/router.hpp"

namespace peat::routing {

struct MeshRouterConfig {
  std::string node_id;
  DeduplicationConfig dedup;
  bool auto_aggregate = true;
  std::size_t aggregation_threshold = 3;
};

struct RouteResult {
  RoutingDecision decision;
  bool should_aggregate = false;
  std::vector<std::string> forward_to;
};

class MeshRouter {
 public:
  MeshRouter(MeshRouterConfig config, std::unique_ptr<Aggregator> aggregator);

  RouteResult route(const DataPacket& packet, const topology::TopologyState& state, Instant now);
  // Buffers a packet for its group (one buffer per group, unlike the reference's shared one);
  // at the threshold the group's buffer is aggregated into one packet. On aggregation failure
  // the packets stay buffered and the error is returned.
  Result<std::optional<DataPacket>> add_for_aggregation(const DataPacket& packet,
                                                        const std::string& group_id);
  // Aggregates whatever is pending for the group (none when empty).
  Result<std::optional<DataPacket>> flush_aggregation(const std::string& group_id);

  std::size_t pending_aggregation_count() const;
  std::size_t pending_aggregation_count(const std::string& group_id) const;
  const std::string& node_id() const { return config_.node_id; }
  SelectiveRouter& router() { return router_; }
  Aggregator& aggregator() { return *aggregator_; }
  std::size_t dedup_size() const;
  void clear_dedup() { router_.dedup().clear(); }

 private:
  MeshRouterConfig config_;
  SelectiveRouter router_;
  std::unique_ptr<Aggregator> aggregator_;
  std::map<std::string, std::vector<DataPacket>> pending_;
};

}  // namespace peat::routing
