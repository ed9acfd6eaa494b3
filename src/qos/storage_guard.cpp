#include "peat/qos/storage_guard.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

namespace peat::qos {

namespace {

std::string_view collection_of(std::string_view key) {
  auto colon = key.find(':');
  return colon == std::string_view::npos ? key : key.substr(0, colon);
}

std::string fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// The controller's callback outside run_cycle (e.g. controller().force_eviction called by an
// operator): one eviction, one transaction.
EvictionCallback evict_each(store::DocumentStore& store, EventLoop& loop) {
  return [&store, &loop](const std::string& key) -> Status {
    auto r = store.evict(key, loop.unix_millis());
    if (!r.ok()) return r.error();
    return {};  // absent already: nothing left to free, the accounting entry goes anyway
  };
}

}  // namespace

nlohmann::json GuardCycleReport::to_json() const {
  return {{"at", rfc3339(at)},
          {"pressure_before", pressure_before},
          {"pressure_after", pressure_after},
          {"ttl_expired", ttl_expired},
          {"soft_deleted", soft_deleted},
          {"lifecycle_evicted", lifecycle_evicted},
          {"lifecycle_skipped", lifecycle_skipped},
          {"lifecycle_failures", lifecycle_failures},
          {"draining", draining},
          {"eviction", eviction ? eviction->to_json() : nlohmann::json(nullptr)}};
}

StorageGuard::StorageGuard(store::DocumentStore& store, EventLoop& loop, QosClassifier classifier,
                           std::uint64_t max_bytes, EvictionConfig eviction,
                           StorageGuardOptions options)
    : store_(store),
      loop_(loop),
      classifier_(std::move(classifier)),
      options_(std::move(options)),
      storage_(max_bytes, options_.retention, eviction.eviction_threshold),
      audit_(options_.audit_capacity),
      controller_(storage_, audit_, eviction) {
  controller_.set_eviction_callback(evict_each(store_, loop_));
  if (options_.compact_before_evict) {
    controller_.set_compression_callback([this](const std::string& key) -> Result<std::uint64_t> {
      auto r = store_.base().compact(key);
      if (!r.ok()) return r.error();
      return r->second;
    });
  }
  controller_.set_clock([this] { return loop_.now(); });
}

StorageGuard::~StorageGuard() {
  stop();
}

QosClass StorageGuard::classify(std::string_view key) const {
  return classifier_ ? classifier_(collection_of(key)) : QosClass::kNormal;
}

void StorageGuard::track(const std::string& key) {
  auto meta = store_.base().meta(key);
  if (!meta.ok() || !meta->has_value()) {
    storage_.unregister_document(key);
    return;
  }
  track(key, **meta);
}

void StorageGuard::track(const std::string& key, const store::DocMeta& m) {
  StoredDocument d;
  d.doc_id = key;
  d.qos_class = classify(key);
  d.size_bytes = m.snapshot_bytes + m.tail_bytes;
  d.stored_at = m.updated_at;
  d.last_accessed = m.updated_at;
  storage_.register_document(std::move(d));
}

void StorageGuard::on_change(const store::ChangeEvent& e) {
  switch (e.kind) {
    case store::ChangeKind::kPut:
    case store::ChangeKind::kSoftDeleted:
      track(e.key);
      break;
    case store::ChangeKind::kDeleted:
    case store::ChangeKind::kExpired:
      storage_.unregister_document(e.key);
      break;
  }
}

Status StorageGuard::rescan() {
  auto docs = store_.base().scan_meta("", /*include_deleted=*/true);  // one read transaction
  if (!docs.ok()) return docs.error();
  for (const auto& [key, meta] : *docs) track(key, meta);
  return {};
}

Status StorageGuard::start() {
  if (running_) return {};
  subscription_ = store_.subscribe("", [this](const store::ChangeEvent& e) { on_change(e); });
  Status st = rescan();
  if (!st.ok()) {
    subscription_.cancel();
    return st;
  }
  running_ = true;
  schedule();
  return {};
}

void StorageGuard::stop() {
  if (timer_ != 0) loop_.cancel(timer_);
  timer_ = 0;
  running_ = false;
  subscription_.cancel();
}

void StorageGuard::schedule() {
  timer_ = loop_.call_after(draining_ ? options_.drain_delay : options_.interval, [this] {
    timer_ = 0;
    if (!running_) return;
    (void)run_cycle(loop_.unix_millis());
    if (running_) schedule();
  });
}

void StorageGuard::apply_lifecycle(UnixMillis now, GuardCycleReport& report) {
  std::size_t actions = 0;
  const Instant start = loop_.now();
  const Duration budget = std::chrono::milliseconds(controller_.config().max_cycle_duration_ms);
  // Evicted-first classes first, oldest first; the pressure is re-read for every document, so
  // pressure-driven evictions stop as soon as the class's level is no longer exceeded.
  std::vector<StoredDocument> docs = storage_.documents();
  const RetentionPolicies& retention = storage_.retention();
  std::stable_sort(docs.begin(), docs.end(), [&](const StoredDocument& a, const StoredDocument& b) {
    auto pa = retention.get(a.qos_class).eviction_priority;
    auto pb = retention.get(b.qos_class).eviction_priority;
    if (pa != pb) return pa < pb;
    return a.stored_at < b.stored_at;
  });
  struct Eviction {
    StoredDocument doc;
    LifecycleDecision decision;
    std::uint64_t age;
    double pressure;
  };
  std::vector<Eviction> evictions;
  for (const StoredDocument& doc : docs) {
    if (actions >= options_.max_lifecycle_actions) break;
    if (loop_.now() - start > budget) break;
    if (doc.is_protected || controller_.is_protected(doc.doc_id)) continue;
    const std::uint64_t age = doc.age_seconds(now);
    const double pressure = storage_.storage_pressure();
    LifecycleDecision d =
        make_lifecycle_decision(options_.lifecycle.get(doc.qos_class), age, pressure);
    if (d == LifecycleDecision::kRetain) continue;
    auto meta = store_.base().meta(doc.doc_id);
    if (!meta.ok() || !meta->has_value()) continue;
    const bool already_soft_deleted = (*meta)->soft_deleted;
    if (d == LifecycleDecision::kSoftDelete && already_soft_deleted) continue;
    ++actions;

    // Local eviction: the lifecycle's Evict, and a TTL expiry of a document that is already
    // deleted mesh-wide (soft-deleted) — removing it again would only rewrite `_deleted`.
    // Collected and evicted together after the pass (one transaction); the accounting entry
    // goes now so the pressure read for the next document already counts it as freed.
    if (d == LifecycleDecision::kEvict ||
        (d == LifecycleDecision::kTtlExpired && already_soft_deleted)) {
      storage_.unregister_document(doc.doc_id);
      evictions.push_back({doc, d, age, pressure});
      continue;
    }

    std::string reason = d == LifecycleDecision::kTtlExpired ? "ttl expired" : "soft delete";
    auto r = store_.remove(doc.doc_id, now, options_.node_id, reason);
    if (!r.ok()) {
      ++report.lifecycle_failures;
      audit_.record(
          AuditEntry::failed_eviction(now, doc.doc_id, doc.qos_class, r.error().to_string()));
      continue;
    }
    const store::DeleteOutcome outcome = r->outcome;
    if (outcome == store::DeleteOutcome::kImmutable ||
        outcome == store::DeleteOutcome::kTtlManaged) {
      ++report.lifecycle_skipped;
      continue;
    }
    if (outcome == store::DeleteOutcome::kNotFound) continue;
    std::string how = outcome == store::DeleteOutcome::kTombstoned ? "tombstoned" : "soft-deleted";
    if (d == LifecycleDecision::kTtlExpired) {
      ++report.ttl_expired;
      AuditEntry e = AuditEntry::ttl_expired(now, doc.doc_id, doc.qos_class, age);
      e.size_bytes = doc.size_bytes;
      e.metadata = how;
      audit_.record(std::move(e));
    } else {
      ++report.soft_deleted;
      AuditEntry e =
          AuditEntry::soft_deleted(now, doc.doc_id, doc.qos_class,
                                   "Lifecycle soft delete (age: " + std::to_string(age) + "s)");
      e.size_bytes = doc.size_bytes;
      e.metadata = how;
      audit_.record(std::move(e));
    }
  }
  if (evictions.empty()) return;
  std::vector<std::string> keys;
  keys.reserve(evictions.size());
  for (const Eviction& e : evictions) keys.push_back(e.doc.doc_id);
  auto evicted = store_.evict_many(keys, now);
  for (const Eviction& e : evictions) {
    const StoredDocument& doc = e.doc;
    if (!evicted.ok()) {
      track(doc.doc_id);  // still stored: account for it again
      ++report.lifecycle_failures;
      audit_.record(
          AuditEntry::failed_eviction(now, doc.doc_id, doc.qos_class, evicted.error().to_string()));
      continue;
    }
    if (e.decision == LifecycleDecision::kTtlExpired) {
      ++report.ttl_expired;
      AuditEntry a = AuditEntry::ttl_expired(now, doc.doc_id, doc.qos_class, e.age);
      a.size_bytes = doc.size_bytes;
      a.metadata = "evicted locally (already soft-deleted)";
      audit_.record(std::move(a));
    } else {
      ++report.lifecycle_evicted;
      audit_.record(AuditEntry::eviction(now, doc.doc_id, doc.qos_class, doc.size_bytes,
                                         "Lifecycle eviction (age: " + std::to_string(e.age) +
                                             "s, pressure: " + fixed2(e.pressure) + ")"));
    }
  }
}

GuardCycleReport StorageGuard::run_cycle(UnixMillis now) {
  GuardCycleReport report;
  report.at = now;
  report.pressure_before = storage_.storage_pressure();
  if (options_.apply_lifecycle) apply_lifecycle(now, report);
  const double target = controller_.config().target_pressure;
  // The controller's evictions are collected and done together after its cycle
  // (DocumentStore::evict_many: one transaction, one fsync when durable).
  auto pending = std::make_shared<std::vector<std::string>>();
  controller_.set_eviction_callback([pending](const std::string& key) -> Status {
    pending->push_back(key);
    return {};
  });
  if (draining_) {
    auto goal = static_cast<std::uint64_t>(static_cast<double>(storage_.max_bytes()) * target);
    std::uint64_t used = storage_.used_bytes();
    if (used > goal) report.eviction = controller_.force_eviction(used - goal, now);
  } else {
    report.eviction = controller_.run_eviction_cycle(now);
  }
  controller_.set_eviction_callback(evict_each(store_, loop_));
  if (!pending->empty()) {
    auto evicted = store_.evict_many(*pending, now);
    if (!evicted.ok()) {
      // Nothing was evicted: the controller already counted and audited these documents, so
      // the report is corrected, each gets a failed-eviction entry and is accounted again.
      for (const std::string& key : *pending) {
        track(key);
        audit_.record(
            AuditEntry::failed_eviction(now, key, classify(key), evicted.error().to_string()));
      }
      if (report.eviction) {
        report.eviction->failures += report.eviction->docs_evicted;
        report.eviction->docs_evicted = 0;
        report.eviction->bytes_freed = 0;
        report.eviction->by_class = {};
      }
    }
  }
  report.pressure_after = storage_.storage_pressure();
  // Keep going soon only while cycles make progress, so a stuck store does not spin.
  draining_ =
      report.eviction && report.eviction->docs_evicted > 0 && report.pressure_after > target;
  report.draining = draining_;
  std::lock_guard lock(report_mu_);
  last_ = report;
  return report;
}

std::optional<GuardCycleReport> StorageGuard::last_cycle() const {
  std::lock_guard lock(report_mu_);
  return last_;
}

nlohmann::json StorageGuard::status_json(UnixMillis now) const {
  auto last = last_cycle();
  return {{"metrics", storage_.metrics(now).to_json()},
          {"audit_summary", audit_.summary().to_json()},
          {"last_cycle", last ? last->to_json() : nlohmann::json(nullptr)},
          {"evicted_keys", store_.evicted_keys().size()}};
}

}  // namespace peat::qos
