#include "peat/beacon/observer.hpp"

#include "peat/beacon/geohash.hpp"

namespace peat::beacon {

BeaconObserver::BeaconObserver(ObserverConfig config) : config_(std::move(config)) {
  set_my_geohash(config_.my_geohash);
}

void BeaconObserver::set_my_geohash(std::string geohash) {
  config_.my_geohash = std::move(geohash);
  cells_.clear();
  if (config_.my_geohash.empty()) return;
  cells_.insert(config_.my_geohash);
  if (auto n = geohash::neighbors(config_.my_geohash)) {
    for (auto& cell : n.value().all()) cells_.insert(cell);
  }
  // Evict beacons that are no longer in range of the new cell.
  if (config_.track_all) return;
  std::vector<std::string> gone;
  for (const auto& [id, b] : beacons_) {
    if (!in_range(b.geohash)) gone.push_back(id);
  }
  for (const auto& id : gone) remove(id);
}

bool BeaconObserver::in_range(const std::string& hash) const {
  if (config_.track_all || cells_.empty()) return true;
  const std::size_t precision = config_.my_geohash.size();
  if (hash.size() >= precision) return cells_.count(hash.substr(0, precision)) > 0;
  // A coarser beacon cell matches when it contains one of ours.
  for (const auto& cell : cells_) {
    if (cell.compare(0, hash.size(), hash) == 0) return true;
  }
  return false;
}

Status BeaconObserver::ingest(ByteView json, std::uint64_t now) {
  auto beacon = beacon_from_json(as_chars(json));
  if (!beacon) return beacon.error();
  return ingest(beacon.value(), now);
}

Status BeaconObserver::ingest(const GeographicBeacon& b, std::uint64_t now) {
  if (b.node_id.empty()) return make_error("INVALID_BEACON", "beacon has an empty node_id");
  auto expected = geohash::encode(b.position.lon, b.position.lat, kBeaconGeohashPrecision);
  if (!expected) return make_error("INVALID_BEACON", expected.error().message);
  if (b.geohash != expected.value()) {
    return make_error("INVALID_BEACON", "geohash " + b.geohash + " does not match position (" +
                                            expected.value() + ")");
  }
  if (b.node_id == config_.self_node_id) return make_error("OWN_BEACON", "own beacon ignored");
  if (b.is_expired(config_.ttl_seconds, now)) {
    return make_error("BEACON_EXPIRED", "beacon from " + b.node_id + " is older than the TTL");
  }
  auto it = beacons_.find(b.node_id);
  if (!in_range(b.geohash)) {
    if (it != beacons_.end()) remove(b.node_id);
    return make_error("OUT_OF_RANGE",
                      "beacon cell " + b.geohash + " is not near " + config_.my_geohash);
  }
  if (it != beacons_.end()) {
    if (b.timestamp < it->second.timestamp) {
      return make_error("STALE_BEACON", "older than the stored beacon of " + b.node_id);
    }
    index_erase(it->second);
    it->second = b;
    index_insert(b);
    if (listener_) listener_(BeaconChange::kUpdated, b);
    return {};
  }
  if (beacons_.size() >= config_.max_entries) {
    expire(now);
    if (beacons_.size() >= config_.max_entries) {
      return make_error("CACHE_FULL", "beacon cache holds its maximum of entries");
    }
  }
  beacons_.emplace(b.node_id, b);
  index_insert(b);
  if (listener_) listener_(BeaconChange::kInserted, b);
  return {};
}

std::vector<std::string> BeaconObserver::expire(std::uint64_t now) {
  std::vector<std::string> gone;
  for (const auto& [id, b] : beacons_) {
    if (b.is_expired(config_.ttl_seconds, now)) gone.push_back(id);
  }
  for (const auto& id : gone) remove(id);
  return gone;
}

bool BeaconObserver::remove(const std::string& node_id) {
  auto it = beacons_.find(node_id);
  if (it == beacons_.end()) return false;
  GeographicBeacon b = std::move(it->second);
  beacons_.erase(it);
  index_erase(b);
  if (listener_) listener_(BeaconChange::kRemoved, b);
  return true;
}

std::vector<GeographicBeacon> BeaconObserver::nearby() const {
  std::vector<GeographicBeacon> out;
  out.reserve(beacons_.size());
  for (const auto& [id, b] : beacons_) out.push_back(b);
  return out;
}

std::optional<GeographicBeacon> BeaconObserver::get(const std::string& node_id) const {
  auto it = beacons_.find(node_id);
  if (it == beacons_.end()) return std::nullopt;
  return it->second;
}

std::vector<GeographicBeacon> BeaconObserver::query_by_geohash(const std::string& prefix) const {
  std::vector<GeographicBeacon> out;
  for (auto it = by_geohash_.lower_bound({prefix, std::string()}); it != by_geohash_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    out.push_back(beacons_.at(it->second));
  }
  return out;
}

void BeaconObserver::index_insert(const GeographicBeacon& b) {
  by_geohash_.emplace(b.geohash, b.node_id);
}
void BeaconObserver::index_erase(const GeographicBeacon& b) {
  by_geohash_.erase({b.geohash, b.node_id});
}

}  // namespace peat::beacon
