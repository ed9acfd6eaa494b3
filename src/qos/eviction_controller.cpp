#include "peat/qos/eviction_controller.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

namespace peat::qos {

nlohmann::json EvictionResult::to_json() const {
  nlohmann::json classes = nlohmann::json::object();
  for (QosClass c : kAllQosClasses) classes[std::string(to_string(c))] = by_class[qos_index(c)];
  return {{"docs_evicted", docs_evicted},
          {"bytes_freed", bytes_freed},
          {"by_class", std::move(classes)},
          {"compressions", compressions},
          {"compression_savings", compression_savings},
          {"failures", failures},
          {"duration_ms", duration_ms},
          {"pressure_before", pressure_before},
          {"pressure_after", pressure_after}};
}

EvictionController::EvictionController(QosAwareStorage& storage, EvictionAuditLog& audit,
                                       EvictionConfig config)
    : storage_(storage), audit_(audit), config_(config) {}

void EvictionController::set_eviction_callback(EvictionCallback cb) {
  std::lock_guard lock(mu_);
  evict_cb_ = std::move(cb);
}

void EvictionController::set_compression_callback(CompressionCallback cb) {
  std::lock_guard lock(mu_);
  compress_cb_ = std::move(cb);
}

void EvictionController::set_clock(CycleClock clock) {
  std::lock_guard lock(mu_);
  clock_ = std::move(clock);
}

std::uint64_t EvictionController::elapsed_ms(Instant start) const {
  CycleClock clock;
  {
    std::lock_guard lock(mu_);
    clock = clock_;
  }
  if (!clock) return 0;
  auto d = clock() - start;
  if (d.count() <= 0) return 0;
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

bool EvictionController::needs_eviction() const {
  return storage_.storage_pressure() >= config_.eviction_threshold;
}

std::optional<EvictionResult> EvictionController::run_eviction_cycle(UnixMillis now) {
  if (!needs_eviction()) return std::nullopt;
  return execute(std::nullopt, now);
}

EvictionResult EvictionController::force_eviction(std::uint64_t bytes, UnixMillis now) {
  return execute(bytes, now);
}

std::uint64_t EvictionController::compress_eligible(EvictionResult& result, UnixMillis now) {
  CompressionCallback cb;
  {
    std::lock_guard lock(mu_);
    cb = compress_cb_;
  }
  if (!cb) return 0;
  std::uint64_t total = 0;
  for (const std::string& id : storage_.compression_candidates()) {
    auto doc = storage_.get(id);
    if (!doc) continue;
    auto new_size = cb(id);
    if (!new_size.ok()) {
      audit_.record(AuditEntry::failed_eviction(
          now, id, doc->qos_class, "Compression failed: " + new_size.error().to_string()));
      continue;
    }
    auto saved = storage_.update_compressed(id, *new_size);
    if (!saved || *saved == 0) continue;
    audit_.record(AuditEntry::compression(now, id, doc->qos_class, doc->size_bytes, *new_size));
    total += *saved;
    ++result.compressions;
    result.compression_savings += *saved;
  }
  return total;
}

EvictionResult EvictionController::execute(std::optional<std::uint64_t> target_bytes,
                                           UnixMillis now) {
  std::lock_guard cycle(cycle_mu_);
  Instant start{};
  {
    std::lock_guard lock(mu_);
    if (clock_) start = clock_();
  }
  EvictionResult result;
  result.pressure_before = storage_.storage_pressure();

  std::uint64_t needed = 0;
  if (target_bytes) {
    needed = *target_bytes;
  } else {
    auto target = static_cast<std::uint64_t>(
        std::floor(static_cast<double>(storage_.max_bytes()) * config_.target_pressure));
    std::uint64_t used = storage_.used_bytes();
    needed = used > target ? used - target : 0;
  }

  auto finish = [&] {
    result.pressure_after = storage_.storage_pressure();
    result.duration_ms = elapsed_ms(start);
    audit_.record(AuditEntry::cleanup_completed(now, result.docs_evicted,
                                                result.bytes_freed + result.compression_savings,
                                                result.duration_ms));
    std::lock_guard lock(mu_);
    if (recent_.size() >= kRecentResults) recent_.pop_front();
    recent_.push_back(result);
  };

  if (needed == 0) {
    finish();
    return result;
  }
  if (config_.compress_before_eviction && compress_eligible(result, now) >= needed) {
    finish();
    return result;
  }

  EvictionCallback cb;
  {
    std::lock_guard lock(mu_);
    cb = evict_cb_;
  }
  // Every candidate in score order: skipped (protected) and failed ones do not stop the cycle
  // from reaching the target with the next candidates.
  for (const EvictionCandidate& c : storage_.all_eviction_candidates(now)) {
    if (result.bytes_freed + result.compression_savings >= needed) break;
    if (elapsed_ms(start) > config_.max_cycle_duration_ms) break;
    if (result.docs_evicted >= config_.max_evictions_per_cycle) break;
    if (is_protected(c.doc_id)) continue;
    Status st =
        cb ? cb(c.doc_id) : Status(make_error("NO_EVICTION_CALLBACK", "No eviction callback set"));
    if (!st.ok()) {
      ++result.failures;
      audit_.record(
          AuditEntry::failed_eviction(now, c.doc_id, c.qos_class, st.error().to_string()));
      continue;
    }
    // The callback's store may already have unregistered the document (change subscription).
    auto removed = storage_.unregister_document(c.doc_id);
    std::uint64_t size = removed ? removed->size_bytes : c.size_bytes;
    char score[32];
    std::snprintf(score, sizeof score, "%.2f", c.eviction_score);
    audit_.record(
        AuditEntry::eviction(now, c.doc_id, c.qos_class, size,
                             "Storage pressure eviction (age: " + std::to_string(c.age_seconds) +
                                 "s, score: " + score + ")"));
    ++result.docs_evicted;
    result.bytes_freed += size;
    ++result.by_class[qos_index(c.qos_class)];
  }
  finish();
  return result;
}

void EvictionController::mark_protected(const std::string& doc_id, UnixMillis now) {
  {
    std::lock_guard lock(mu_);
    protected_.insert(doc_id);
  }
  storage_.mark_protected(doc_id);
  if (auto doc = storage_.get(doc_id)) {
    audit_.record(AuditEntry::protection(now, doc_id, doc->qos_class, "Operator override"));
  }
}

void EvictionController::unmark_protected(const std::string& doc_id, UnixMillis now) {
  {
    std::lock_guard lock(mu_);
    protected_.erase(doc_id);
  }
  storage_.unmark_protected(doc_id);
  if (auto doc = storage_.get(doc_id)) {
    audit_.record(
        AuditEntry::unprotection(now, doc_id, doc->qos_class, "Operator override removed"));
  }
}

bool EvictionController::is_protected(const std::string& doc_id) const {
  std::lock_guard lock(mu_);
  return protected_.count(doc_id) > 0;
}

std::size_t EvictionController::protected_count() const {
  std::lock_guard lock(mu_);
  return protected_.size();
}

std::vector<EvictionResult> EvictionController::recent_stats() const {
  std::lock_guard lock(mu_);
  return {recent_.begin(), recent_.end()};
}

}  // namespace peat::qos
