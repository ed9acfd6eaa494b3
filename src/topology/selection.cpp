#include "peat/topology/selection.hpp"

#include <algorithm>
#include <cmath>

namespace peat::topology {

bool PeerSelector::is_valid(const beacon::GeographicBeacon& c) const {
  if (!(c.hierarchy_level > level_)) return false;
  if (config_.max_distance_meters &&
      position_.distance_to(c.position) > *config_.max_distance_meters) {
    return false;
  }
  return c.can_parent;
}

double PeerSelector::score(const beacon::GeographicBeacon& c) const {
  double mobility = 0.5;
  if (c.mobility) {
    switch (*c.mobility) {
      case beacon::NodeMobility::kStatic:
        mobility = 1.0;
        break;
      case beacon::NodeMobility::kSemiMobile:
        mobility = 0.6;
        break;
      case beacon::NodeMobility::kMobile:
        mobility = 0.3;
        break;
    }
  }
  double resource = 0.5;
  double battery = 0.5;
  if (c.resources) {
    const auto& r = *c.resources;
    resource = ((1.0 - r.cpu_usage_percent / 100.0) + (1.0 - r.memory_usage_percent / 100.0) +
                std::min<double>(r.bandwidth_mbps, 100.0) / 100.0) /
               3.0;
    battery = r.battery_percent ? *r.battery_percent / 100.0 : 1.0;
  }
  const double range = std::max(config_.max_distance_meters.value_or(10000.0), 1000.0);
  const double proximity = std::exp(-position_.distance_to(c.position) / (range / 3.0));
  return mobility * config_.mobility_weight + resource * config_.resource_weight +
         battery * config_.battery_weight + proximity * config_.proximity_weight;
}

std::vector<PeerCandidate> PeerSelector::rank(
    const std::vector<beacon::GeographicBeacon>& nearby) const {
  std::vector<PeerCandidate> out;
  for (const auto& b : nearby) {
    if (!is_valid(b)) continue;
    out.push_back({b, score(b), position_.distance_to(b.position)});
  }
  std::stable_sort(out.begin(), out.end(), [](const PeerCandidate& a, const PeerCandidate& b) {
    return a.score > b.score;
  });
  return out;
}

std::optional<PeerCandidate> PeerSelector::select_best(
    const std::vector<beacon::GeographicBeacon>& nearby) const {
  auto ranked = rank(nearby);
  if (ranked.empty()) return std::nullopt;
  return ranked.front();
}

}  // namespace peat::topology
