// EvictionController (spec 1.15): runs eviction cycles over a QosAwareStorage. It does not touch
// a store itself: it calls the compression and eviction callbacks (StorageGuard binds them to
// DocumentStore) and records every decision in an EvictionAuditLog.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "peat/common/clock.hpp"
#include "peat/common/result.hpp"
#include "peat/qos/audit_log.hpp"
#include "peat/qos/qos_storage.hpp"

namespace peat::qos {

struct EvictionConfig {
  double eviction_threshold = 0.9;  // a cycle runs at pressure >= this
  double target_pressure = 0.7;     // and frees down to this
  bool compress_before_eviction = true;
  std::size_t max_evictions_per_cycle = 1000;
  std::uint64_t max_cycle_duration_ms = 5000;

  static EvictionConfig defaults() { return {}; }
  static EvictionConfig aggressive() { return {0.75, 0.5, true, 2000, 10'000}; }
  static EvictionConfig conservative() { return {0.95, 0.85, true, 500, 3000}; }
};

struct EvictionResult {
  std::size_t docs_evicted = 0;
  std::uint64_t bytes_freed = 0;
  std::array<std::size_t, kQosClassCount> by_class{};
  std::size_t compressions = 0;
  std::uint64_t compression_savings = 0;
  std::size_t failures = 0;
  std::uint64_t duration_ms = 0;
  double pressure_before = 0;
  double pressure_after = 0;

  bool is_success() const { return docs_evicted > 0 || compression_savings > 0; }
  bool freed_target(std::uint64_t target_bytes) const {
    return bytes_freed + compression_savings >= target_bytes;
  }
  nlohmann::json to_json() const;
};

// Evicts one document from the real store; an error is recorded as a failed eviction.
using EvictionCallback = std::function<Status(const std::string& doc_id)>;
// Compresses one document and returns its new size in bytes.
using CompressionCallback = std::function<Result<std::uint64_t>(const std::string& doc_id)>;
// Monotonic time, only used to bound a cycle's duration.
using CycleClock = std::function<Instant()>;

class EvictionController {
 public:
  static constexpr std::size_t kRecentResults = 10;

  // `storage` and `audit` must outlive the controller.
  EvictionController(QosAwareStorage& storage, EvictionAuditLog& audit, EvictionConfig config = {});

  void set_eviction_callback(EvictionCallback cb);
  void set_compression_callback(CompressionCallback cb);
  // Without a clock a cycle is bounded by max_evictions_per_cycle only, and duration_ms is 0.
  void set_clock(CycleClock clock);

  // nullopt below the threshold; otherwise frees used - max * target_pressure bytes.
  std::optional<EvictionResult> run_eviction_cycle(UnixMillis now);
  // Operator override: frees `bytes` whatever the pressure.
  EvictionResult force_eviction(std::uint64_t bytes, UnixMillis now);
  bool needs_eviction() const;

  // Operator protection (kept even for documents not tracked yet); audited when tracked.
  void mark_protected(const std::string& doc_id, UnixMillis now);
  void unmark_protected(const std::string& doc_id, UnixMillis now);
  bool is_protected(const std::string& doc_id) const;
  std::size_t protected_count() const;

  // The last 10 cycle results, oldest first.
  std::vector<EvictionResult> recent_stats() const;
  const EvictionConfig& config() const { return config_; }
  StorageMetrics storage_metrics(UnixMillis now) const { return storage_.metrics(now); }
  AuditSummary audit_summary() const { return audit_.summary(); }
  std::string export_audit_log() const { return audit_.export_json(); }

 private:
  EvictionResult execute(std::optional<std::uint64_t> target_bytes, UnixMillis now);
  std::uint64_t compress_eligible(EvictionResult& result, UnixMillis now);
  std::uint64_t elapsed_ms(Instant start) const;

  QosAwareStorage& storage_;
  EvictionAuditLog& audit_;
  const EvictionConfig config_;
  mutable std::mutex mu_;  // guards the callbacks, protected set and recent results
  EvictionCallback evict_cb_;
  CompressionCallback compress_cb_;
  CycleClock clock_;
  std::set<std::string, std::less<>> protected_;
  std::deque<EvictionResult> recent_;
  std::mutex cycle_mu_;  // one cycle at a time
};

}  // namespace peat::qos
