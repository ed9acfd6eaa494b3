// QosAwareStorage (spec 1.15): accounting of stored documents per QoS class, storage pressure,
// and the choice of eviction and compression candidates. Pure bookkeeping: it never touches a
// store; times are Unix milliseconds passed in by the caller. Thread-safe (one mutex).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "peat/common/clock.hpp"
#include "peat/qos/qos_class.hpp"
#include "peat/qos/retention.hpp"

namespace peat::qos {

struct StoredDocument {
  std::string doc_id;
  QosClass qos_class = QosClass::kNormal;
  std::uint64_t size_bytes = 0;
  UnixMillis stored_at = 0;
  UnixMillis last_accessed = 0;
  bool is_protected = false;  // never evicted
  bool compressed = false;

  // Whole seconds since stored_at / last_accessed (0 when `now` is earlier).
  std::uint64_t age_seconds(UnixMillis now) const;
  std::uint64_t idle_seconds(UnixMillis now) const;
};

struct EvictionCandidate {
  std::string doc_id;
  QosClass qos_class = QosClass::kNormal;
  std::uint64_t age_seconds = 0;
  std::uint64_t size_bytes = 0;
  double eviction_score = 0;  // higher = evicted first
};

struct ClassStorageMetrics {
  std::size_t doc_count = 0;
  std::uint64_t total_bytes = 0;
  std::uint64_t avg_age_seconds = 0;
  std::uint64_t oldest_doc_age = 0;
  std::size_t protected_count = 0;
  std::size_t compressed_count = 0;
};

struct StorageMetrics {
  std::uint64_t max_bytes = 0;
  std::uint64_t used_bytes = 0;
  double utilization = 0;
  std::array<ClassStorageMetrics, kQosClassCount> by_class{};

  std::uint64_t available_bytes() const {
    return used_bytes >= max_bytes ? 0 : max_bytes - used_bytes;
  }
  bool under_pressure() const { return utilization > 0.8; }
  bool is_critical() const { return utilization > 0.95; }
  nlohmann::json to_json() const;
};

class QosAwareStorage {
 public:
  static constexpr std::uint64_t kDefaultMaxBytes = std::uint64_t{1} << 30;

  // The eviction threshold is clamped to [0.5, 0.99].
  explicit QosAwareStorage(std::uint64_t max_bytes = kDefaultMaxBytes,
                           RetentionPolicies retention = RetentionPolicies::default_tactical(),
                           double eviction_threshold = 0.9);

  // Adds or replaces the record (bytes adjusted by the difference). A replaced record keeps its
  // protection mark (the Rust crate dropped it); `compressed` comes from the new record.
  void register_document(StoredDocument doc);
  std::optional<StoredDocument> unregister_document(std::string_view doc_id);
  bool touch(std::string_view doc_id, UnixMillis now);
  bool mark_protected(std::string_view doc_id);
  bool unmark_protected(std::string_view doc_id);
  // Sets the size after compression and marks the record compressed. Returns the bytes saved
  // (0 when the new size is not smaller); nullopt when the document is unknown.
  std::optional<std::uint64_t> update_compressed(std::string_view doc_id, std::uint64_t new_size);

  // used / max (0 when max is 0).
  double storage_pressure() const;
  // pressure >= threshold.
  bool should_evict() const;

  // Candidates (never Critical, never protected, never retained by the retention policy at the
  // current pressure), by descending score, taken until their sizes add up to bytes_needed
  // (none for 0). Score = 10*(6 - evict_prio) + 5*min(age/max_retain, 1) (0 for infinite
  // retention) + 3*min(idle/3600 s, 1) + min(size/1 MB, 1) + 2*pressure. Ties: doc id order.
  std::vector<EvictionCandidate> eviction_candidates(std::uint64_t bytes_needed,
                                                     UnixMillis now) const;
  // Every candidate, sorted, without the size cut.
  std::vector<EvictionCandidate> all_eviction_candidates(UnixMillis now) const;
  // Non-critical, unprotected, uncompressed documents whose policy says should_compress(p),
  // in doc id order.
  std::vector<std::string> compression_candidates() const;
  double eviction_score(const StoredDocument& doc, double pressure, UnixMillis now) const;

  StorageMetrics metrics(UnixMillis now) const;
  std::size_t document_count() const;
  bool contains(std::string_view doc_id) const;
  std::optional<StoredDocument> get(std::string_view doc_id) const;
  std::vector<StoredDocument> documents() const;
  std::uint64_t used_bytes() const;
  std::uint64_t max_bytes() const { return max_bytes_; }
  double eviction_threshold() const { return threshold_; }
  const RetentionPolicies& retention() const { return retention_; }

 private:
  double pressure_locked() const;
  std::vector<EvictionCandidate> candidates_locked(UnixMillis now) const;

  const std::uint64_t max_bytes_;
  const RetentionPolicies retention_;
  const double threshold_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, StoredDocument> docs_;
  std::uint64_t used_ = 0;
};

}  // namespace peat::qos
