#include "peat/qos/qos_storage.hpp"

#include <algorithm>

namespace peat::qos {

namespace {

std::uint64_t seconds_since(UnixMillis then, UnixMillis now) {
  return now > then ? (now - then) / 1000 : 0;
}

}  // namespace

std::uint64_t StoredDocument::age_seconds(UnixMillis now) const {
  return seconds_since(stored_at, now);
}
std::uint64_t StoredDocument::idle_seconds(UnixMillis now) const {
  return seconds_since(last_accessed, now);
}

nlohmann::json StorageMetrics::to_json() const {
  nlohmann::json classes = nlohmann::json::object();
  for (QosClass c : kAllQosClasses) {
    const ClassStorageMetrics& m = by_class[qos_index(c)];
    classes[std::string(to_string(c))] = {{"doc_count", m.doc_count},
                                          {"total_bytes", m.total_bytes},
                                          {"avg_age_seconds", m.avg_age_seconds},
                                          {"oldest_doc_age", m.oldest_doc_age},
                                          {"protected_count", m.protected_count},
                                          {"compressed_count", m.compressed_count}};
  }
  return {{"max_bytes", max_bytes},
          {"used_bytes", used_bytes},
          {"available_bytes", available_bytes()},
          {"utilization", utilization},
          {"under_pressure", under_pressure()},
          {"is_critical", is_critical()},
          {"by_class", std::move(classes)}};
}

QosAwareStorage::QosAwareStorage(std::uint64_t max_bytes, RetentionPolicies retention,
                                 double eviction_threshold)
    : max_bytes_(max_bytes),
      retention_(retention),
      threshold_(std::clamp(eviction_threshold, 0.5, 0.99)) {}

void QosAwareStorage::register_document(StoredDocument doc) {
  std::lock_guard lock(mu_);
  auto it = docs_.find(doc.doc_id);
  if (it != docs_.end()) {
    used_ -= it->second.size_bytes;
    doc.is_protected = doc.is_protected || it->second.is_protected;
    used_ += doc.size_bytes;
    it->second = std::move(doc);
    return;
  }
  used_ += doc.size_bytes;
  std::string id = doc.doc_id;
  docs_.emplace(std::move(id), std::move(doc));
}

std::optional<StoredDocument> QosAwareStorage::unregister_document(std::string_view doc_id) {
  std::lock_guard lock(mu_);
  auto it = docs_.find(std::string(doc_id));
  if (it == docs_.end()) return std::nullopt;
  StoredDocument doc = std::move(it->second);
  docs_.erase(it);
  used_ -= doc.size_bytes;
  return doc;
}

bool QosAwareStorage::touch(std::string_view doc_id, UnixMillis now) {
  std::lock_guard lock(mu_);
  auto it = docs_.find(std::string(doc_id));
  if (it == docs_.end()) return false;
  it->second.last_accessed = now;
  return true;
}

bool QosAwareStorage::mark_protected(std::string_view doc_id) {
  std::lock_guard lock(mu_);
  auto it = docs_.find(std::string(doc_id));
  if (it == docs_.end()) return false;
  it->second.is_protected = true;
  return true;
}

bool QosAwareStorage::unmark_protected(std::string_view doc_id) {
  std::lock_guard lock(mu_);
  auto it = docs_.find(std::string(doc_id));
  if (it == docs_.end()) return false;
  it->second.is_protected = false;
  return true;
}

std::optional<std::uint64_t> QosAwareStorage::update_compressed(std::string_view doc_id,
                                                                std::uint64_t new_size) {
  std::lock_guard lock(mu_);
  auto it = docs_.find(std::string(doc_id));
  if (it == docs_.end()) return std::nullopt;
  std::uint64_t old_size = it->second.size_bytes;
  // Account the real new size even when it grew (the Rust crate only ever subtracted).
  used_ = used_ - old_size + new_size;
  it->second.size_bytes = new_size;
  it->second.compressed = true;
  return old_size > new_size ? old_size - new_size : 0;
}

double QosAwareStorage::pressure_locked() const {
  if (max_bytes_ == 0) return 0.0;
  return static_cast<double>(used_) / static_cast<double>(max_bytes_);
}

double QosAwareStorage::storage_pressure() const {
  std::lock_guard lock(mu_);
  return pressure_locked();
}

bool QosAwareStorage::should_evict() const {
  return storage_pressure() >= threshold_;
}

double QosAwareStorage::eviction_score(const StoredDocument& doc, double pressure,
                                       UnixMillis now) const {
  const RetentionPolicy& policy = retention_.get(doc.qos_class);
  double class_score = 6.0 - policy.eviction_priority;
  double age_factor = 0.0;
  if (!policy.has_infinite_retention()) {
    age_factor = policy.max_retain_seconds == 0
                     ? 1.0
                     : std::min(static_cast<double>(doc.age_seconds(now)) /
                                    static_cast<double>(policy.max_retain_seconds),
                                1.0);
  }
  double idle_factor = std::min(static_cast<double>(doc.idle_seconds(now)) / 3600.0, 1.0);
  double size_factor = std::min(static_cast<double>(doc.size_bytes) / 1'000'000.0, 1.0);
  return class_score * 10.0 + age_factor * 5.0 + idle_factor * 3.0 + size_factor * 1.0 +
         pressure * 2.0;
}

std::vector<EvictionCandidate> QosAwareStorage::candidates_locked(UnixMillis now) const {
  double pressure = pressure_locked();
  std::vector<EvictionCandidate> out;
  for (const auto& [id, doc] : docs_) {
    if (doc.qos_class == QosClass::kCritical || doc.is_protected) continue;
    std::uint64_t age = doc.age_seconds(now);
    if (!retention_.get(doc.qos_class).should_evict(age, pressure)) continue;
    out.push_back({id, doc.qos_class, age, doc.size_bytes, eviction_score(doc, pressure, now)});
  }
  std::sort(out.begin(), out.end(), [](const EvictionCandidate& a, const EvictionCandidate& b) {
    if (a.eviction_score != b.eviction_score) return a.eviction_score > b.eviction_score;
    return a.doc_id < b.doc_id;
  });
  return out;
}

std::vector<EvictionCandidate> QosAwareStorage::all_eviction_candidates(UnixMillis now) const {
  std::lock_guard lock(mu_);
  return candidates_locked(now);
}

std::vector<EvictionCandidate> QosAwareStorage::eviction_candidates(std::uint64_t bytes_needed,
                                                                    UnixMillis now) const {
  std::vector<EvictionCandidate> all = all_eviction_candidates(now);
  std::vector<EvictionCandidate> out;
  std::uint64_t total = 0;
  for (auto& c : all) {
    if (total >= bytes_needed) break;
    total += c.size_bytes;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> QosAwareStorage::compression_candidates() const {
  std::lock_guard lock(mu_);
  double pressure = pressure_locked();
  std::vector<std::string> out;
  for (const auto& [id, doc] : docs_) {
    if (doc.qos_class == QosClass::kCritical || doc.is_protected || doc.compressed) continue;
    if (retention_.get(doc.qos_class).should_compress(pressure)) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

StorageMetrics QosAwareStorage::metrics(UnixMillis now) const {
  std::lock_guard lock(mu_);
  StorageMetrics m;
  m.max_bytes = max_bytes_;
  m.used_bytes = used_;
  m.utilization = pressure_locked();
  std::array<std::uint64_t, kQosClassCount> age_sum{};
  for (const auto& [id, doc] : docs_) {
    ClassStorageMetrics& c = m.by_class[qos_index(doc.qos_class)];
    std::uint64_t age = doc.age_seconds(now);
    ++c.doc_count;
    c.total_bytes += doc.size_bytes;
    c.oldest_doc_age = std::max(c.oldest_doc_age, age);
    age_sum[qos_index(doc.qos_class)] += age;
    if (doc.is_protected) ++c.protected_count;
    if (doc.compressed) ++c.compressed_count;
  }
  for (std::size_t i = 0; i < kQosClassCount; ++i) {
    if (m.by_class[i].doc_count > 0)
      m.by_class[i].avg_age_seconds = age_sum[i] / m.by_class[i].doc_count;
  }
  return m;
}

std::size_t QosAwareStorage::document_count() const {
  std::lock_guard lock(mu_);
  return docs_.size();
}

bool QosAwareStorage::contains(std::string_view doc_id) const {
  std::lock_guard lock(mu_);
  return docs_.count(std::string(doc_id)) > 0;
}

std::optional<StoredDocument> QosAwareStorage::get(std::string_view doc_id) const {
  std::lock_guard lock(mu_);
  auto it = docs_.find(std::string(doc_id));
  if (it == docs_.end()) return std::nullopt;
  return it->second;
}

std::vector<StoredDocument> QosAwareStorage::documents() const {
  std::lock_guard lock(mu_);
  std::vector<StoredDocument> out;
  out.reserve(docs_.size());
  for (const auto& [id, doc] : docs_) out.push_back(doc);
  std::sort(out.begin(), out.end(),
            [](const StoredDocument& a, const StoredDocument& b) { return a.doc_id < b.doc_id; });
  return out;
}

std::uint64_t QosAwareStorage::used_bytes() const {
  std::lock_guard lock(mu_);
  return used_;
}

}  // namespace peat::qos
