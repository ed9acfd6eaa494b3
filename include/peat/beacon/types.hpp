// Geographic beacons: what a node announces about itself (position, hierarchy level,
// capabilities, resources). JSON shape matches the Rust crate's serde output.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"

namespace peat::beacon {

inline constexpr std::size_t kBeaconGeohashPrecision = 7;

struct GeoPosition {
  double lat = 0;
  double lon = 0;
  std::optional<double> alt;

  // Haversine distance in metres (Earth radius 6 371 000 m).
  double distance_to(const GeoPosition& other) const;
  bool operator==(const GeoPosition&) const = default;
};

// Ordered: Platform < Squad < Platoon < Company.
enum class HierarchyLevel : std::uint8_t { kPlatform = 0, kSquad = 1, kPlatoon = 2, kCompany = 3 };

const char* to_string(HierarchyLevel level);
Result<HierarchyLevel> parse_hierarchy_level(std::string_view text);
std::optional<HierarchyLevel> parent_level(HierarchyLevel level);
std::optional<HierarchyLevel> child_level(HierarchyLevel level);
// True for ANY higher level, not only the next one (as in the reference).
inline bool can_be_parent_of(HierarchyLevel self, HierarchyLevel child) {
  return self > child;
}

enum class NodeMobility : std::uint8_t { kStatic, kMobile, kSemiMobile };
const char* to_string(NodeMobility mobility);
Result<NodeMobility> parse_mobility(std::string_view text);

struct NodeResources {
  std::uint8_t cpu_cores = 0;
  std::uint32_t memory_mb = 0;
  std::uint32_t bandwidth_mbps = 0;
  std::uint8_t cpu_usage_percent = 0;
  std::uint8_t memory_usage_percent = 0;
  std::optional<std::uint8_t> battery_percent;  // none = mains power
  bool operator==(const NodeResources&) const = default;
};

// Thresholds a node must meet to be a parent (defaults as in the reference).
struct ParentingRequirements {
  std::uint8_t min_cpu_cores = 2;
  std::uint32_t min_memory_mb = 512;
  std::uint32_t min_bandwidth_mbps = 10;
  std::uint8_t max_cpu_usage = 80;     // usage must be below
  std::uint8_t max_memory_usage = 80;  // usage must be below
  std::uint8_t min_battery_percent = 20;
  bool is_met_by(const NodeResources& r) const;
};

struct NodeProfile {
  NodeMobility mobility = NodeMobility::kStatic;
  NodeResources resources;
  bool can_parent = false;
  bool prefer_leaf = false;
  std::uint8_t parent_priority = 0;

  static NodeProfile static_node(NodeResources resources);       // can parent, priority 255
  static NodeProfile mobile_node(NodeResources resources);       // leaf, priority 0
  static NodeProfile semi_mobile_node(NodeResources resources);  // can parent, priority 128

  bool is_parent_candidate(const ParentingRequirements& req = {}) const;
};

struct GeographicBeacon {
  std::string node_id;
  GeoPosition position;
  std::string geohash;  // precision 7 of position, "invalid" when out of range
  HierarchyLevel hierarchy_level = HierarchyLevel::kSquad;
  std::vector<std::string> capabilities;
  bool operational = true;
  std::uint64_t timestamp = 0;  // Unix seconds
  std::optional<NodeMobility> mobility;
  bool can_parent = false;
  std::uint8_t parent_priority = 0;
  std::optional<NodeResources> resources;
  std::map<std::string, std::string> metadata;

  static GeographicBeacon make(std::string node_id, GeoPosition position, HierarchyLevel level,
                               std::uint64_t now_unix_seconds);
  // Copies mobility, resources, can_parent and parent_priority from a profile.
  void apply_profile(const NodeProfile& profile);
  void set_position(GeoPosition position);      // also recomputes the geohash
  void add_capability(std::string capability);  // ignores duplicates
  bool has_capability(std::string_view capability) const;
  std::uint64_t age_seconds(std::uint64_t now_unix_seconds) const;                   // saturating
  bool is_expired(std::uint64_t ttl_seconds, std::uint64_t now_unix_seconds) const;  // age > ttl
};

nlohmann::ordered_json to_json_value(const GeographicBeacon& beacon);
std::string to_json(const GeographicBeacon& beacon);
// Errors: "INVALID_BEACON" (not JSON, missing/mistyped field, unknown enum, out-of-range number).
Result<GeographicBeacon> beacon_from_json(std::string_view text);
Result<GeographicBeacon> beacon_from_json_value(const nlohmann::json& value);

// Geohash precision 7 of a position, or "invalid".
std::string beacon_geohash(const GeoPosition& position);

}  // namespace peat::beacon
