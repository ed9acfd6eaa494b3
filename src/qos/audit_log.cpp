#include "peat/qos/audit_log.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace peat::qos {

std::string_view to_string(AuditAction a) {
  switch (a) {
    case AuditAction::kEvicted:
      return "EVICTED";
    case AuditAction::kCompressed:
      return "COMPRESSED";
    case AuditAction::kMarkedProtected:
      return "PROTECTED";
    case AuditAction::kUnmarkedProtected:
      return "UNPROTECTED";
    case AuditAction::kFailedEviction:
      return "EVICT_FAILED";
    case AuditAction::kTtlExpired:
      return "TTL_EXPIRED";
    case AuditAction::kSoftDeleted:
      return "SOFT_DELETED";
    case AuditAction::kCleanupCompleted:
      return "CLEANUP_DONE";
  }
  return "UNKNOWN";
}

std::string_view json_name(AuditAction a) {
  switch (a) {
    case AuditAction::kEvicted:
      return "Evicted";
    case AuditAction::kCompressed:
      return "Compressed";
    case AuditAction::kMarkedProtected:
      return "MarkedProtected";
    case AuditAction::kUnmarkedProtected:
      return "UnmarkedProtected";
    case AuditAction::kFailedEviction:
      return "FailedEviction";
    case AuditAction::kTtlExpired:
      return "TtlExpired";
    case AuditAction::kSoftDeleted:
      return "SoftDeleted";
    case AuditAction::kCleanupCompleted:
      return "CleanupCompleted";
  }
  return "Unknown";
}

std::string rfc3339(UnixMillis t) {
  using namespace std::chrono;
  sys_time<milliseconds> tp{milliseconds(t)};
  auto day = floor<days>(tp);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> hms{tp - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

AuditEntry AuditEntry::eviction(UnixMillis now, std::string doc_id, QosClass c,
                                std::uint64_t size_bytes, std::string reason) {
  return {now, AuditAction::kEvicted, std::move(doc_id), c, size_bytes, std::move(reason), {}};
}

AuditEntry AuditEntry::compression(UnixMillis now, std::string doc_id, QosClass c,
                                   std::uint64_t original_size, std::uint64_t compressed_size) {
  std::uint64_t percent = 0;
  if (original_size > 0 && compressed_size < original_size) {
    percent = (original_size - compressed_size) * 100 / original_size;
  }
  std::string reason = "Compressed " + std::to_string(original_size) + " -> " +
                       std::to_string(compressed_size) + " bytes (" + std::to_string(percent) +
                       "% reduction)";
  return {now, AuditAction::kCompressed, std::move(doc_id), c, compressed_size, std::move(reason),
          {}};
}

AuditEntry AuditEntry::protection(UnixMillis now, std::string doc_id, QosClass c,
                                  std::string reason) {
  return {now, AuditAction::kMarkedProtected, std::move(doc_id), c, {}, std::move(reason), {}};
}

AuditEntry AuditEntry::unprotection(UnixMillis now, std::string doc_id, QosClass c,
                                    std::string reason) {
  return {now, AuditAction::kUnmarkedProtected, std::move(doc_id), c, {}, std::move(reason), {}};
}

AuditEntry AuditEntry::failed_eviction(UnixMillis now, std::string doc_id, QosClass c,
                                       std::string error) {
  return {now, AuditAction::kFailedEviction, std::move(doc_id), c, {}, std::move(error), {}};
}

AuditEntry AuditEntry::ttl_expired(UnixMillis now, std::string doc_id, QosClass c,
                                   std::uint64_t age_seconds) {
  return {now,
          AuditAction::kTtlExpired,
          std::move(doc_id),
          c,
          {},
          "Document exceeded TTL (age: " + std::to_string(age_seconds) + " seconds)",
          {}};
}

AuditEntry AuditEntry::soft_deleted(UnixMillis now, std::string doc_id, QosClass c,
                                    std::string reason) {
  return {now, AuditAction::kSoftDeleted, std::move(doc_id), c, {}, std::move(reason), {}};
}

AuditEntry AuditEntry::cleanup_completed(UnixMillis now, std::size_t docs_evicted,
                                         std::uint64_t bytes_freed, std::uint64_t duration_ms) {
  return {now,
          AuditAction::kCleanupCompleted,
          "system",
          QosClass::kNormal,
          bytes_freed,
          "Evicted " + std::to_string(docs_evicted) + " docs, freed " +
              std::to_string(bytes_freed) + " bytes in " + std::to_string(duration_ms) + "ms",
          {}};
}

nlohmann::json AuditEntry::to_json() const {
  nlohmann::json j;
  j["timestamp"] = rfc3339(timestamp);
  j["action"] = std::string(json_name(action));
  j["doc_id"] = doc_id;
  j["qos_class"] = std::string(to_string(qos_class));
  j["size_bytes"] = size_bytes ? nlohmann::json(*size_bytes) : nlohmann::json(nullptr);
  j["reason"] = reason;
  j["metadata"] = metadata ? nlohmann::json(*metadata) : nlohmann::json(nullptr);
  return j;
}

double AuditSummary::eviction_success_rate() const {
  std::size_t attempts = total_evictions + failed_evictions;
  if (attempts == 0) return 1.0;
  return static_cast<double>(total_evictions) / static_cast<double>(attempts);
}

nlohmann::json AuditSummary::to_json() const {
  nlohmann::json by_class = nlohmann::json::object();
  for (QosClass c : kAllQosClasses) by_class[std::string(to_string(c))] = evictions_for_class(c);
  return {{"total_entries", total_entries},
          {"total_evictions", total_evictions},
          {"bytes_evicted", bytes_evicted},
          {"total_compressions", total_compressions},
          {"failed_evictions", failed_evictions},
          {"eviction_success_rate", eviction_success_rate()},
          {"evictions_by_class", std::move(by_class)}};
}

EvictionAuditLog::EvictionAuditLog(std::size_t capacity)
    : capacity_(std::max<std::size_t>(capacity, 1)) {}

void EvictionAuditLog::record(AuditEntry entry) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= capacity_) entries_.pop_front();
  entries_.push_back(std::move(entry));
}

std::vector<AuditEntry> EvictionAuditLog::get_all() const {
  std::lock_guard lock(mu_);
  return {entries_.begin(), entries_.end()};
}

std::vector<AuditEntry> EvictionAuditLog::get_in_range(UnixMillis from, UnixMillis to) const {
  std::lock_guard lock(mu_);
  std::vector<AuditEntry> out;
  for (const auto& e : entries_) {
    if (e.timestamp >= from && e.timestamp <= to) out.push_back(e);
  }
  return out;
}

std::vector<AuditEntry> EvictionAuditLog::get_by_class(QosClass c) const {
  std::lock_guard lock(mu_);
  std::vector<AuditEntry> out;
  for (const auto& e : entries_) {
    if (e.qos_class == c) out.push_back(e);
  }
  return out;
}

std::vector<AuditEntry> EvictionAuditLog::get_by_action(AuditAction a) const {
  std::lock_guard lock(mu_);
  std::vector<AuditEntry> out;
  for (const auto& e : entries_) {
    if (e.action == a) out.push_back(e);
  }
  return out;
}

std::vector<AuditEntry> EvictionAuditLog::get_recent(std::size_t count) const {
  std::lock_guard lock(mu_);
  std::size_t n = std::min(count, entries_.size());
  return {entries_.end() - static_cast<std::ptrdiff_t>(n), entries_.end()};
}

std::size_t EvictionAuditLog::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void EvictionAuditLog::clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

AuditSummary EvictionAuditLog::summary() const {
  std::lock_guard lock(mu_);
  AuditSummary s;
  for (const auto& e : entries_) {
    ++s.total_entries;
    switch (e.action) {
      case AuditAction::kEvicted:
        ++s.total_evictions;
        s.bytes_evicted += e.size_bytes.value_or(0);
        ++s.evictions_by_class[qos_index(e.qos_class)];
        break;
      case AuditAction::kCompressed:
        ++s.total_compressions;
        break;
      case AuditAction::kFailedEviction:
        ++s.failed_evictions;
        break;
      default:
        break;
    }
  }
  return s;
}

std::string EvictionAuditLog::export_json() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : get_all()) arr.push_back(e.to_json());
  return arr.dump(2);
}

}  // namespace peat::qos
