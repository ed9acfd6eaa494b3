// EvictionAuditLog (spec 1.15): a bounded record of every eviction, compression, protection,
// TTL and cleanup decision, for post-mission review. Thread-safe; times are passed in.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "peat/common/clock.hpp"
#include "peat/qos/qos_class.hpp"

namespace peat::qos {

enum class AuditAction : std::uint8_t {
  kEvicted,
  kCompressed,
  kMarkedProtected,
  kUnmarkedProtected,
  kFailedEviction,
  kTtlExpired,
  kSoftDeleted,
  kCleanupCompleted,
};

// EVICTED, COMPRESSED, PROTECTED, UNPROTECTED, EVICT_FAILED, TTL_EXPIRED, SOFT_DELETED,
// CLEANUP_DONE.
std::string_view to_string(AuditAction a);
// The serialized (JSON) name: "Evicted", "Compressed", ..., "CleanupCompleted".
std::string_view json_name(AuditAction a);

// RFC 3339 UTC time with milliseconds, e.g. "2026-11-26T08:19:16.123Z".
std::string rfc3339(UnixMillis t);

struct AuditEntry {
  UnixMillis timestamp = 0;
  AuditAction action = AuditAction::kEvicted;
  std::string doc_id;
  QosClass qos_class = QosClass::kNormal;
  std::optional<std::uint64_t> size_bytes;
  std::string reason;
  std::optional<std::string> metadata;

  static AuditEntry eviction(UnixMillis now, std::string doc_id, QosClass c,
                             std::uint64_t size_bytes, std::string reason);
  // Reason "Compressed A -> B bytes (N% reduction)" (N = integer percent, 0 if it grew);
  // size = compressed size.
  static AuditEntry compression(UnixMillis now, std::string doc_id, QosClass c,
                                std::uint64_t original_size, std::uint64_t compressed_size);
  static AuditEntry protection(UnixMillis now, std::string doc_id, QosClass c, std::string reason);
  static AuditEntry unprotection(UnixMillis now, std::string doc_id, QosClass c,
                                 std::string reason);
  static AuditEntry failed_eviction(UnixMillis now, std::string doc_id, QosClass c,
                                    std::string error);
  // Reason "Document exceeded TTL (age: N seconds)".
  static AuditEntry ttl_expired(UnixMillis now, std::string doc_id, QosClass c,
                                std::uint64_t age_seconds);
  static AuditEntry soft_deleted(UnixMillis now, std::string doc_id, QosClass c,
                                 std::string reason);
  // doc_id "system", class Normal, reason "Evicted N docs, freed B bytes in T ms", size = B.
  static AuditEntry cleanup_completed(UnixMillis now, std::size_t docs_evicted,
                                      std::uint64_t bytes_freed, std::uint64_t duration_ms);

  // {"timestamp": RFC 3339, "action": "Evicted", "doc_id", "qos_class": "Bulk",
  //  "size_bytes": n|null, "reason", "metadata": s|null}
  nlohmann::json to_json() const;
};

struct AuditSummary {
  std::size_t total_entries = 0;
  std::size_t total_evictions = 0;
  std::uint64_t bytes_evicted = 0;
  std::size_t total_compressions = 0;
  std::size_t failed_evictions = 0;
  std::array<std::size_t, kQosClassCount> evictions_by_class{};

  std::size_t evictions_for_class(QosClass c) const { return evictions_by_class[qos_index(c)]; }
  // evicted / (evicted + failed); 1.0 when there were no attempts.
  double eviction_success_rate() const;
  nlohmann::json to_json() const;
};

class EvictionAuditLog {
 public:
  static constexpr std::size_t kDefaultCapacity = 10'000;
  // Keeps the newest `capacity` entries (at least 1).
  explicit EvictionAuditLog(std::size_t capacity = kDefaultCapacity);

  void record(AuditEntry entry);

  std::vector<AuditEntry> get_all() const;
  // Entries with from <= timestamp <= to.
  std::vector<AuditEntry> get_in_range(UnixMillis from, UnixMillis to) const;
  std::vector<AuditEntry> get_by_class(QosClass c) const;
  std::vector<AuditEntry> get_by_action(AuditAction a) const;
  // The newest `count` entries, oldest first.
  std::vector<AuditEntry> get_recent(std::size_t count) const;
  std::size_t size() const;
  bool empty() const { return size() == 0; }
  std::size_t capacity() const { return capacity_; }
  void clear();

  AuditSummary summary() const;
  // Pretty-printed JSON array of every entry, oldest first.
  std::string export_json() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::deque<AuditEntry> entries_;
};

}  // namespace peat::qos
