// StorageGuard: QoS retention and eviction wired to a real DocumentStore.
//
// It keeps a QosAwareStorage in step with the store (a full scan on start, then the store's
// change events: every put re-registers the document's stored size and write time, deletions
// and expiries unregister it), and every `interval` (default 10 s, an EventLoop timer) runs one
// cycle: the lifecycle decision of each tracked document (TTL expired or soft delete ->
// DocumentStore::remove with the collection's deletion policy; evict -> collected, then one
// DocumentStore::evict_many after the pass), then an EvictionController cycle that compacts first
// (DocStore::compact) and evicts the keys it picks with one DocumentStore::evict_many after the
// cycle (controller() used directly, outside run_cycle, evicts one key per transaction). Eviction
// is local: no tombstone, and the store refuses peer copies of an evicted key ("EVICTED"), so sync
// cannot bring it back. Everything lands in the audit log.
//
// Threads: construct, start, stop, run_cycle and destroy on the loop's thread; store change
// callbacks may come from any writer thread (the accounting is locked).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "peat/common/event_loop.hpp"
#include "peat/qos/audit_log.hpp"
#include "peat/qos/eviction_controller.hpp"
#include "peat/qos/lifecycle.hpp"
#include "peat/qos/qos_storage.hpp"
#include "peat/store/document_store.hpp"

namespace peat::qos {

using QosClassifier = std::function<QosClass(std::string_view collection)>;

struct StorageGuardOptions {
  Duration interval = std::chrono::seconds(10);
  // A cycle cut short by max_evictions_per_cycle / max_cycle_duration_ms that is still above
  // the target pressure continues after this delay (instead of `interval`), so a long eviction
  // runs in slices and the loop stays responsive. Continuation cycles free down to the target
  // even when the pressure is already below the eviction threshold.
  Duration drain_delay = std::chrono::milliseconds(100);
  RetentionPolicies retention = RetentionPolicies::default_tactical();
  LifecyclePolicies lifecycle;
  // Apply lifecycle decisions. TTL-expired and soft-delete decisions delete the document
  // mesh-wide (tombstone or `_deleted`, per the collection's deletion policy).
  bool apply_lifecycle = true;
  // Compact documents (DocStore::compact) before evicting, when the eviction config asks for it.
  bool compact_before_evict = true;
  // Lifecycle actions per cycle (each is one store write); the lifecycle pass also stops after
  // the eviction config's max_cycle_duration_ms (loop time).
  std::size_t max_lifecycle_actions = 1000;
  std::size_t audit_capacity = EvictionAuditLog::kDefaultCapacity;
  // `deleted_by` of lifecycle deletions.
  std::string node_id = "storage-guard";
};

struct GuardCycleReport {
  UnixMillis at = 0;
  double pressure_before = 0;
  double pressure_after = 0;
  std::size_t ttl_expired = 0;
  std::size_t soft_deleted = 0;
  std::size_t lifecycle_evicted = 0;
  std::size_t lifecycle_skipped = 0;  // immutable / TTL-managed collections
  std::size_t lifecycle_failures = 0;
  std::optional<EvictionResult> eviction;  // nullopt: pressure below the threshold
  bool draining = false;  // cut short above the target: the next cycle follows soon
  nlohmann::json to_json() const;
};

class StorageGuard {
 public:
  // `store` and `loop` must outlive the guard. max_bytes is the storage budget the pressure is
  // measured against (used bytes = snapshot + tail of every live document).
  StorageGuard(store::DocumentStore& store, EventLoop& loop, QosClassifier classifier,
               std::uint64_t max_bytes, EvictionConfig eviction = {},
               StorageGuardOptions options = {});
  ~StorageGuard();
  StorageGuard(const StorageGuard&) = delete;
  StorageGuard& operator=(const StorageGuard&) = delete;

  // Scans the store, subscribes to its changes and starts the timer. Idempotent.
  Status start();
  // Stops the timer and the subscription (accounting stays as it was).
  void stop();
  bool running() const { return running_; }

  // One cycle at `now` (the timer calls it with loop.unix_millis()); usable without start().
  GuardCycleReport run_cycle(UnixMillis now);
  // Re-reads every document's size and write time (start() does this once).
  Status rescan();

  // Operator protection: never evicted nor removed by the lifecycle.
  void protect(const std::string& key, UnixMillis now) { controller_.mark_protected(key, now); }
  void unprotect(const std::string& key, UnixMillis now) { controller_.unmark_protected(key, now); }

  QosClass classify(std::string_view key) const;
  const QosAwareStorage& storage() const { return storage_; }
  EvictionController& controller() { return controller_; }
  const EvictionAuditLog& audit() const { return audit_; }
  StorageMetrics metrics(UnixMillis now) const { return storage_.metrics(now); }
  AuditSummary summary() const { return audit_.summary(); }
  std::string audit_json() const { return audit_.export_json(); }
  std::optional<GuardCycleReport> last_cycle() const;
  // {"metrics", "audit_summary", "last_cycle", "evicted_keys"}.
  nlohmann::json status_json(UnixMillis now) const;

 private:
  // Re-reads the document's metadata (unregisters it when gone) / registers known metadata.
  void track(const std::string& key);
  void track(const std::string& key, const store::DocMeta& meta);
  void on_change(const store::ChangeEvent& e);
  void schedule();
  void apply_lifecycle(UnixMillis now, GuardCycleReport& report);

  store::DocumentStore& store_;
  EventLoop& loop_;
  QosClassifier classifier_;
  StorageGuardOptions options_;
  QosAwareStorage storage_;
  EvictionAuditLog audit_;
  EvictionController controller_;
  bool running_ = false;
  bool draining_ = false;
  TimerId timer_ = 0;
  mutable std::mutex report_mu_;
  std::optional<GuardCycleReport> last_;
  store::Subscription subscription_;  // last: cancelled before the rest is destroyed
};

}  // namespace peat::qos
