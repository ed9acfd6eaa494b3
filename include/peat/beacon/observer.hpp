// BeaconObserver: validates received beacons, keeps the latest one per node and indexes them by
// geohash. Pure state: callers feed it bytes and `now`; BeaconJanitor expires entries on a loop.
//
// Differences from the Rust observer (deliberate fixes of its noted quirks): the own beacon is
// ignored, cell matching compares at the observer's precision whatever the beacon's precision,
// moving out of range evicts, older timestamps never replace newer ones, and expiry can run
// on this cache.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "peat/beacon/types.hpp"

namespace peat::beacon {

struct ObserverConfig {
  std::string self_node_id;  // beacons from this id are ignored
  std::string my_geohash;    // own cell; precision = its length
  bool track_all = false;    // accept beacons from any cell
  std::uint64_t ttl_seconds = 30;
  std::size_t max_entries = 10000;
};

enum class BeaconChange : std::uint8_t { kInserted, kUpdated, kRemoved };

class BeaconObserver {
 public:
  using Listener = std::function<void(BeaconChange, const GeographicBeacon&)>;

  explicit BeaconObserver(ObserverConfig config);

  // Decodes and applies a beacon. Errors: "INVALID_BEACON" (bad JSON/fields, coordinates out of
  // range, geohash not matching the position), "BEACON_EXPIRED", "OUT_OF_RANGE" (not in the own
  // cell or a neighbour), "OWN_BEACON", "STALE_BEACON" (older than the stored one), "CACHE_FULL".
  Status ingest(ByteView json, std::uint64_t now_unix_seconds);
  Status ingest(const GeographicBeacon& beacon, std::uint64_t now_unix_seconds);

  // Removes beacons with age > ttl; returns the removed node ids.
  std::vector<std::string> expire(std::uint64_t now_unix_seconds);
  bool remove(const std::string& node_id);

  void set_my_geohash(std::string geohash);
  void set_listener(Listener listener) { listener_ = std::move(listener); }

  std::vector<GeographicBeacon> nearby() const;
  std::optional<GeographicBeacon> get(const std::string& node_id) const;
  // Beacons whose geohash starts with `prefix` (index lookup).
  std::vector<GeographicBeacon> query_by_geohash(const std::string& prefix) const;
  std::size_t size() const { return beacons_.size(); }
  const ObserverConfig& config() const { return config_; }

 private:
  bool in_range(const std::string& geohash) const;
  void index_insert(const GeographicBeacon& b);
  void index_erase(const GeographicBeacon& b);

  ObserverConfig config_;
  std::set<std::string> cells_;  // own cell and neighbours at own precision
  std::map<std::string, GeographicBeacon> beacons_;
  std::set<std::pair<std::string, std::string>> by_geohash_;  // (geohash, node_id)
  Listener listener_;
};

}  // namespace peat::beacon
