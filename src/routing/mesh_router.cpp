#include "peat/routing/mesh_router.hpp"

namespace peat::routing {

MeshRouter::MeshRouter(MeshRouterConfig config, std::unique_ptr<Aggregator> aggregator)
    : config_(std::move(config)),
      router_(config_.dedup),
      aggregator_(aggregator ? std::move(aggregator) : std::make_unique<NoOpAggregator>()) {}

RouteResult MeshRouter::route(const DataPacket& packet, const topology::TopologyState& state,
                              Instant now) {
  RouteResult r{router_.route(packet, state, config_.node_id, now), false, {}};
  r.should_aggregate = SelectiveRouter::should_aggregate(packet, r.decision, state);
  r.forward_to = next_hops(r.decision);
  return r;
}

Result<std::optional<DataPacket>> MeshRouter::add_for_aggregation(const DataPacket& packet,
                                                                  const std::string& group_id) {
  if (!config_.auto_aggregate) return std::optional<DataPacket>{};
  auto& buf = pending_[group_id];
  buf.push_back(packet);
  if (buf.size() < config_.aggregation_threshold) return std::optional<DataPacket>{};
  return flush_aggregation(group_id);
}

Result<std::optional<DataPacket>> MeshRouter::flush_aggregation(const std::string& group_id) {
  auto it = pending_.find(group_id);
  if (it == pending_.end() || it->second.empty()) return std::optional<DataPacket>{};
  auto out = aggregator_->aggregate_telemetry(group_id, config_.node_id, it->second);
  if (!out) return out.error();
  pending_.erase(it);
  return std::optional<DataPacket>(std::move(out.value()));
}

std::size_t MeshRouter::pending_aggregation_count() const {
  std::size_t n = 0;
  for (const auto& [g, v] : pending_) n += v.size();
  return n;
}

std::size_t MeshRouter::pending_aggregation_count(const std::string& group_id) const {
  auto it = pending_.find(group_id);
  return it == pending_.end() ? 0 : it->second.size();
}

std::size_t MeshRouter::dedup_size() const {
  return router_.dedup().size();
}

}  // namespace peat::routing
