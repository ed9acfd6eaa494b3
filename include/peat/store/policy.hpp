// Deletion policies and TTL defaults per collection (Rust peat-mesh ADR-034 table, TTL presets).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace peat::store {

enum class DeletionKind : std::uint8_t { kImplicitTtl, kTombstone, kSoftDelete, kImmutable };

struct DeletionPolicy {
  DeletionKind kind = DeletionKind::kSoftDelete;
  // ImplicitTtl: documents older than this (since their last write) are collected.
  // Tombstone: how long the tombstone is kept before GC may drop it.
  std::chrono::milliseconds ttl{0};
  // Tombstone only: a write newer than the delete stays deleted (true) or revives the doc (false).
  bool delete_wins = true;

  static DeletionPolicy implicit_ttl(std::chrono::milliseconds ttl) {
    return {DeletionKind::kImplicitTtl, ttl, true};
  }
  static DeletionPolicy tombstone(std::chrono::milliseconds ttl, bool delete_wins) {
    return {DeletionKind::kTombstone, ttl, delete_wins};
  }
  static DeletionPolicy soft_delete() { return {}; }
  static DeletionPolicy immutable() { return {DeletionKind::kImmutable, {}, true}; }
  bool operator==(const DeletionPolicy&) const = default;
};

// Overrides plus the Rust crate's defaults: beacons/platforms ImplicitTTL 1 h; tracks Tombstone
// 1 h delete-wins; nodes, cells Tombstone 24 h delete-wins; alerts Tombstone 4 h update-wins;
// everything else SoftDelete.
class DeletionPolicyRegistry {
 public:
  DeletionPolicy get(std::string_view collection) const;
  void set(std::string collection, DeletionPolicy policy);
  void remove(std::string_view collection);
  static DeletionPolicy default_for(std::string_view collection);

 private:
  std::map<std::string, DeletionPolicy, std::less<>> overrides_;
};

// Per-collection document TTLs (Rust TtlConfig). A document in a collection with a TTL expires
// that long after its latest write.
struct TtlConfig {
  std::chrono::milliseconds tombstone_ttl = std::chrono::hours(168);
  std::chrono::milliseconds beacon_ttl = std::chrono::seconds(600);
  std::chrono::milliseconds position_ttl = std::chrono::seconds(600);
  std::chrono::milliseconds capability_ttl = std::chrono::seconds(7200);

  // beacons → beacon_ttl, node_positions → position_ttl, capabilities → capability_ttl,
  // cells → 1 h, anything else → none.
  std::optional<std::chrono::milliseconds> for_collection(std::string_view collection) const;

  static TtlConfig defaults() { return {}; }
  static TtlConfig tactical();
  static TtlConfig long_duration();
  static TtlConfig offline_node();
};

}  // namespace peat::store
