#include "peat/store/policy.hpp"

namespace peat::store {

using std::chrono::hours;
using std::chrono::seconds;

DeletionPolicy DeletionPolicyRegistry::default_for(std::string_view c) {
  if (c == "beacons" || c == "platforms") return DeletionPolicy::implicit_ttl(hours(1));
  if (c == "tracks") return DeletionPolicy::tombstone(hours(1), true);
  if (c == "nodes" || c == "cells") return DeletionPolicy::tombstone(hours(24), true);
  if (c == "alerts") return DeletionPolicy::tombstone(hours(4), false);
  return DeletionPolicy::soft_delete();
}

DeletionPolicy DeletionPolicyRegistry::get(std::string_view collection) const {
  auto it = overrides_.find(collection);
  return it != overrides_.end() ? it->second : default_for(collection);
}

void DeletionPolicyRegistry::set(std::string collection, DeletionPolicy policy) {
  overrides_[std::move(collection)] = policy;
}

void DeletionPolicyRegistry::remove(std::string_view collection) {
  auto it = overrides_.find(collection);
  if (it != overrides_.end()) overrides_.erase(it);
}

std::optional<std::chrono::milliseconds> TtlConfig::for_collection(
    std::string_view collection) const {
  if (collection == "beacons") return beacon_ttl;
  if (collection == "node_positions") return position_ttl;
  if (collection == "capabilities") return capability_ttl;
  if (collection == "cells") return std::chrono::milliseconds(hours(1));
  return std::nullopt;
}

TtlConfig TtlConfig::tactical() {
  TtlConfig c;
  c.beacon_ttl = seconds(300);
  return c;
}

TtlConfig TtlConfig::long_duration() {
  TtlConfig c;
  c.position_ttl = seconds(3600);
  c.capability_ttl = seconds(172800);
  return c;
}

TtlConfig TtlConfig::offline_node() {
  TtlConfig c;
  c.tombstone_ttl = hours(72);
  c.beacon_ttl = seconds(30);
  c.position_ttl = seconds(60);
  c.capability_ttl = seconds(300);
  return c;
}

}  // namespace peat::store
