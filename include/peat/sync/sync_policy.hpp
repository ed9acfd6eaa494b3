// Per-collection sync behaviour: sync mode (spec 1.12), QoS class (1.13) and the tombstone
// propagation direction (1.10), with the Rust crate's defaults and per-collection overrides.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "peat/qos/qos_class.hpp"
#include "peat/sync/wire.hpp"

namespace peat::sync {

enum class SyncModeKind : std::uint8_t {
  kFullHistory,  // Automerge sync sessions (delta protocol)
  kLatestOnly,   // whole save() sent, merged on receipt (tombstone guard applies)
  kWindowed,     // like full history, but only documents written within the window are reconciled
};

struct SyncMode {
  SyncModeKind kind = SyncModeKind::kFullHistory;
  std::chrono::milliseconds window{0};  // kWindowed only
  static SyncMode full_history() { return {}; }
  static SyncMode latest_only() { return {SyncModeKind::kLatestOnly, {}}; }
  static SyncMode windowed(std::chrono::milliseconds w) { return {SyncModeKind::kWindowed, w}; }
  bool operator==(const SyncMode&) const = default;
};

// The QoS classes shared with storage eviction and bandwidth allocation (spec 1.13; lower number
// = higher priority).
using QosClass = qos::QosClass;
using qos::kQosClassCount;
using qos::qos_index;

class SyncPolicyRegistry {
 public:
  // Defaults: LatestOnly for beacons, platforms, tracks, nodes, cells, node_states and the
  // squad/platoon/company summaries; Windowed 300 s for track_history and capability_history;
  // FullHistory otherwise. QoS: alerts Critical, commands High, track_history/capability_history/
  // audit_logs Bulk, everything else Normal (the Rust crate has no per-collection QoS table).
  SyncMode mode(std::string_view collection) const;
  QosClass qos(std::string_view collection) const;
  PropagationDirection direction(std::string_view collection) const;

  void set_mode(std::string collection, SyncMode mode);
  void set_qos(std::string collection, QosClass qos);
  void set_direction(std::string collection, PropagationDirection direction);

  static SyncMode default_mode(std::string_view collection);
  static QosClass default_qos(std::string_view collection);
  // cells, contact_reports UpOnly; commands DownOnly; everything else Bidirectional.
  static PropagationDirection default_direction(std::string_view collection);

 private:
  std::map<std::string, SyncMode, std::less<>> modes_;
  std::map<std::string, QosClass, std::less<>> qos_;
  std::map<std::string, PropagationDirection, std::less<>> directions_;
};

// "collection" of "collection:doc_id" (the whole key when there is no ':').
std::string_view collection_of(std::string_view key);

}  // namespace peat::sync
