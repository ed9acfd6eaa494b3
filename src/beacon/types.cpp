#include "peat/beacon/types.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "beacon/json_util.hpp"
#include "peat/beacon/geohash.hpp"

namespace peat::beacon {

double GeoPosition::distance_to(const GeoPosition& other) const {
  constexpr double kEarthRadius = 6371000.0;
  constexpr double kDeg = 3.14159265358979323846 / 180.0;
  const double lat1 = lat * kDeg;
  const double lat2 = other.lat * kDeg;
  const double dlat = (other.lat - lat) * kDeg;
  const double dlon = (other.lon - lon) * kDeg;
  const double a = std::pow(std::sin(dlat / 2), 2) +
                   std::cos(lat1) * std::cos(lat2) * std::pow(std::sin(dlon / 2), 2);
  return kEarthRadius * 2 * std::atan2(std::sqrt(a), std::sqrt(1 - a));
}

const char* to_string(HierarchyLevel level) {
  switch (level) {
    case HierarchyLevel::kPlatform:
      return "Platform";
    case HierarchyLevel::kSquad:
      return "Squad";
    case HierarchyLevel::kPlatoon:
      return "Platoon";
    case HierarchyLevel::kCompany:
      return "Company";
  }
  return "Platform";
}

Result<HierarchyLevel> parse_hierarchy_level(std::string_view text) {
  for (auto l : {HierarchyLevel::kPlatform, HierarchyLevel::kSquad, HierarchyLevel::kPlatoon,
                 HierarchyLevel::kCompany}) {
    if (text == to_string(l)) return l;
  }
  return make_error("INVALID_BEACON", "unknown hierarchy level: " + std::string(text));
}

std::optional<HierarchyLevel> parent_level(HierarchyLevel level) {
  if (level == HierarchyLevel::kCompany) return std::nullopt;
  return static_cast<HierarchyLevel>(static_cast<int>(level) + 1);
}

std::optional<HierarchyLevel> child_level(HierarchyLevel level) {
  if (level == HierarchyLevel::kPlatform) return std::nullopt;
  return static_cast<HierarchyLevel>(static_cast<int>(level) - 1);
}

const char* to_string(NodeMobility mobility) {
  switch (mobility) {
    case NodeMobility::kStatic:
      return "Static";
    case NodeMobility::kMobile:
      return "Mobile";
    case NodeMobility::kSemiMobile:
      return "SemiMobile";
  }
  return "Static";
}

Result<NodeMobility> parse_mobility(std::string_view text) {
  for (auto m : {NodeMobility::kStatic, NodeMobility::kMobile, NodeMobility::kSemiMobile}) {
    if (text == to_string(m)) return m;
  }
  return make_error("INVALID_BEACON", "unknown mobility: " + std::string(text));
}

bool ParentingRequirements::is_met_by(const NodeResources& r) const {
  if (r.cpu_cores < min_cpu_cores || r.memory_mb < min_memory_mb ||
      r.bandwidth_mbps < min_bandwidth_mbps || r.cpu_usage_percent >= max_cpu_usage ||
      r.memory_usage_percent >= max_memory_usage) {
    return false;
  }
  return !r.battery_percent || *r.battery_percent >= min_battery_percent;
}

NodeProfile NodeProfile::static_node(NodeResources resources) {
  return {NodeMobility::kStatic, resources, true, false, 255};
}
NodeProfile NodeProfile::mobile_node(NodeResources resources) {
  return {NodeMobility::kMobile, resources, false, true, 0};
}
NodeProfile NodeProfile::semi_mobile_node(NodeResources resources) {
  return {NodeMobility::kSemiMobile, resources, true, false, 128};
}

bool NodeProfile::is_parent_candidate(const ParentingRequirements& req) const {
  if (prefer_leaf || !can_parent) return false;
  if (mobility == NodeMobility::kMobile) return false;
  return req.is_met_by(resources);
}

std::string beacon_geohash(const GeoPosition& position) {
  auto h = geohash::encode(position.lon, position.lat, kBeaconGeohashPrecision);
  return h ? h.value() : std::string("invalid");
}

GeographicBeacon GeographicBeacon::make(std::string node_id, GeoPosition position,
                                        HierarchyLevel level, std::uint64_t now_unix_seconds) {
  GeographicBeacon b;
  b.node_id = std::move(node_id);
  b.geohash = beacon_geohash(position);
  b.position = position;
  b.hierarchy_level = level;
  b.timestamp = now_unix_seconds;
  return b;
}

void GeographicBeacon::apply_profile(const NodeProfile& profile) {
  mobility = profile.mobility;
  resources = profile.resources;
  can_parent = profile.can_parent;
  parent_priority = profile.parent_priority;
}

void GeographicBeacon::set_position(GeoPosition p) {
  position = p;
  geohash = beacon_geohash(p);
}

void GeographicBeacon::add_capability(std::string capability) {
  if (!has_capability(capability)) capabilities.push_back(std::move(capability));
}

bool GeographicBeacon::has_capability(std::string_view capability) const {
  return std::find(capabilities.begin(), capabilities.end(), capability) != capabilities.end();
}

std::uint64_t GeographicBeacon::age_seconds(std::uint64_t now) const {
  return now > timestamp ? now - timestamp : 0;
}

bool GeographicBeacon::is_expired(std::uint64_t ttl, std::uint64_t now) const {
  return age_seconds(now) > ttl;
}

nlohmann::ordered_json to_json_value(const GeographicBeacon& b) {
  nlohmann::ordered_json j;
  j["node_id"] = b.node_id;
  nlohmann::ordered_json pos;
  pos["lat"] = b.position.lat;
  pos["lon"] = b.position.lon;
  if (b.position.alt) pos["alt"] = *b.position.alt;
  j["position"] = std::move(pos);
  j["geohash"] = b.geohash;
  j["hierarchy_level"] = to_string(b.hierarchy_level);
  j["capabilities"] = b.capabilities;
  j["operational"] = b.operational;
  j["timestamp"] = b.timestamp;
  if (b.mobility) j["mobility"] = to_string(*b.mobility);
  j["can_parent"] = b.can_parent;
  j["parent_priority"] = b.parent_priority;
  if (b.resources) {
    const auto& r = *b.resources;
    nlohmann::ordered_json res;
    res["cpu_cores"] = r.cpu_cores;
    res["memory_mb"] = r.memory_mb;
    res["bandwidth_mbps"] = r.bandwidth_mbps;
    res["cpu_usage_percent"] = r.cpu_usage_percent;
    res["memory_usage_percent"] = r.memory_usage_percent;
    if (r.battery_percent) res["battery_percent"] = *r.battery_percent;
    j["resources"] = std::move(res);
  }
  if (!b.metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : b.metadata) meta[k] = v;
    j["metadata"] = std::move(meta);
  }
  return j;
}

std::string to_json(const GeographicBeacon& beacon) {
  return to_json_value(beacon).dump();
}

namespace {

using detail::JsonReader;

Result<NodeResources> read_resources(const nlohmann::json& j) {
  JsonReader r(j, "resources", "INVALID_BEACON");
  NodeResources out;
  r.required_uint("cpu_cores", out.cpu_cores);
  r.required_uint("memory_mb", out.memory_mb);
  r.required_uint("bandwidth_mbps", out.bandwidth_mbps);
  r.optional_uint("cpu_usage_percent", out.cpu_usage_percent);
  r.optional_uint("memory_usage_percent", out.memory_usage_percent);
  std::uint8_t battery = 0;
  if (r.optional_uint("battery_percent", battery)) out.battery_percent = battery;
  if (!r.ok()) return r.error();
  return out;
}

}  // namespace

Result<GeographicBeacon> beacon_from_json_value(const nlohmann::json& j) {
  JsonReader r(j, "beacon", "INVALID_BEACON");
  GeographicBeacon b;
  r.required_string("node_id", b.node_id);
  if (const auto* pos = r.required_object("position")) {
    JsonReader p(*pos, "position", "INVALID_BEACON");
    p.required_double("lat", b.position.lat);
    double alt = 0;
    p.required_double("lon", b.position.lon);
    if (p.optional_double("alt", alt)) b.position.alt = alt;
    if (!p.ok()) return p.error();
  }
  r.required_string("geohash", b.geohash);
  std::string level;
  if (r.required_string("hierarchy_level", level)) {
    auto l = parse_hierarchy_level(level);
    if (!l) return l.error();
    b.hierarchy_level = l.value();
  }
  r.optional_string_array("capabilities", b.capabilities);
  r.required_bool("operational", b.operational);
  r.required_uint("timestamp", b.timestamp);
  std::string mobility;
  if (r.optional_string("mobility", mobility)) {
    auto m = parse_mobility(mobility);
    if (!m) return m.error();
    b.mobility = m.value();
  }
  r.optional_bool("can_parent", b.can_parent);
  r.optional_uint("parent_priority", b.parent_priority);
  if (const auto* res = r.optional_object("resources")) {
    auto parsed = read_resources(*res);
    if (!parsed) return parsed.error();
    b.resources = parsed.value();
  }
  r.optional_string_map("metadata", b.metadata);
  if (!r.ok()) return r.error();
  return b;
}

Result<GeographicBeacon> beacon_from_json(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error("INVALID_BEACON", "beacon is not valid JSON");
  return beacon_from_json_value(j);
}

}  // namespace peat::beacon
