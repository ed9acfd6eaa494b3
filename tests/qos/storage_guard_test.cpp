// StorageGuard on a real LMDB DocumentStore in a temp dir, driven by run_cycle(now) or by a
// virtual-time loop.
#include "peat/qos/storage_guard.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "beacon/manual_loop.hpp"
#include "store/test_dir.hpp"

namespace peat::qos {
namespace {

using nlohmann::json;
using store::DocumentStore;
using store::PutOptions;

// ManualLoop's wall clock starts here.
constexpr UnixMillis kT0 = 1'700'000'000'000;
constexpr UnixMillis kMinute = 60'000;

// Incompressible filler (Automerge deflates repetitive strings), deterministic.
std::string noise(std::size_t n, std::uint32_t seed) {
  std::string out(n, ' ');
  std::uint32_t x = seed * 2654435761u + 1;
  for (char& c : out) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>('!' + (x >> 24) % 90);
  }
  return out;
}

QosClass classify(std::string_view collection) {
  if (collection == "alerts") return QosClass::kCritical;
  if (collection == "commands") return QosClass::kHigh;
  if (collection == "bulk" || collection == "tracks") return QosClass::kBulk;
  if (collection == "low") return QosClass::kLow;
  return QosClass::kNormal;
}

class StorageGuardTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    store_.reset();
    store::DocStoreOptions o;
    o.env.durable = false;
    auto s = DocumentStore::open(dir_.str(), doc::ActorId(16, 0xAA), std::move(o));
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    store_ = std::move(*s);
  }
  void put(const std::string& key, std::size_t payload, UnixMillis at) {
    ASSERT_TRUE(
        store_
            ->put_json(key,
                       json{{"data", noise(payload, static_cast<std::uint32_t>(key.size() + at))}},
                       at)
            .ok())
        << key;
  }
  std::uint64_t size_of(const std::string& key) { return store_->stored_size(key).value_or(0); }
  std::uint64_t total_size() {
    std::uint64_t sum = 0;
    auto keys = store_->base().scan_prefix("", /*include_deleted=*/true);
    for (const auto& k : keys.value()) sum += size_of(k);
    return sum;
  }

  test::TempDir dir_;
  std::unique_ptr<DocumentStore> store_;
  testing::ManualLoop loop_;
};

TEST_F(StorageGuardTest, StartScansExistingDocumentsAndFollowsChanges) {
  put("alerts:a1", 500, kT0);
  put("bulk:b1", 800, kT0);
  StorageGuard guard(*store_, loop_, classify, 1'000'000);
  ASSERT_TRUE(guard.start().ok());
  EXPECT_EQ(guard.storage().document_count(), 2u);
  EXPECT_EQ(guard.storage().used_bytes(), total_size());
  EXPECT_EQ(guard.storage().get("alerts:a1")->qos_class, QosClass::kCritical);
  EXPECT_EQ(guard.storage().get("bulk:b1")->stored_at, kT0);

  put("low:l1", 300, kT0 + 5);  // a new document is registered by the change event
  EXPECT_EQ(guard.storage().get("low:l1")->qos_class, QosClass::kLow);
  put("bulk:b1", 5000, kT0 + 6);  // a rewrite re-registers the new size and time
  EXPECT_EQ(guard.storage().get("bulk:b1")->size_bytes, size_of("bulk:b1"));
  EXPECT_EQ(guard.storage().get("bulk:b1")->stored_at, kT0 + 6);
  EXPECT_EQ(guard.storage().used_bytes(), total_size());
  ASSERT_TRUE(store_->base().remove("low:l1").ok());
  EXPECT_FALSE(guard.storage().contains("low:l1"));
  EXPECT_EQ(guard.storage().used_bytes(), total_size());

  guard.stop();
  put("low:l2", 10, kT0 + 7);  // no longer followed
  EXPECT_FALSE(guard.storage().contains("low:l2"));
}

TEST_F(StorageGuardTest, PressureCycleEvictsBulkFirstNeverCriticalKeepsProtected) {
  for (int i = 0; i < 4; ++i) put("alerts:a" + std::to_string(i), 2000, kT0);
  for (int i = 0; i < 4; ++i) put("bulk:b" + std::to_string(i), 2000, kT0 + i);
  for (int i = 0; i < 2; ++i) put("low:l" + std::to_string(i), 2000, kT0);
  put("normal:n0", 2000, kT0);
  const std::uint64_t total = total_size();
  const auto max_bytes = static_cast<std::uint64_t>(static_cast<double>(total) / 0.95);
  EvictionConfig cfg;
  cfg.compress_before_eviction = false;
  StorageGuardOptions opts;
  opts.apply_lifecycle = false;
  StorageGuard guard(*store_, loop_, classify, max_bytes, cfg, opts);
  ASSERT_TRUE(guard.start().ok());
  const Bytes saved_b0 = **store_->base().read("bulk:b0");
  std::map<std::string, std::uint64_t> sizes;
  for (const auto& d : guard.storage().documents()) sizes[d.doc_id] = size_of(d.doc_id);
  guard.protect("bulk:b3", kT0);

  // 10 minutes later Bulk and Low are past their minimum retention; Normal (1 h) is not.
  const UnixMillis now = kT0 + 10 * kMinute;
  GuardCycleReport r = guard.run_cycle(now);
  ASSERT_TRUE(r.eviction);
  EXPECT_GE(r.pressure_before, 0.9);
  EXPECT_LE(r.pressure_after, 0.7);
  EXPECT_EQ(r.eviction->failures, 0u);

  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(store_->base().contains("alerts:a" + std::to_string(i)));  // never Critical
  }
  EXPECT_TRUE(store_->base().contains("bulk:b3"));    // protected
  EXPECT_TRUE(store_->base().contains("normal:n0"));  // retained by its policy
  // Bulk goes before Low: every unprotected Bulk doc is gone before any Low doc is touched.
  auto evicted = guard.audit().get_by_action(AuditAction::kEvicted);
  ASSERT_GE(evicted.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(evicted[i].qos_class, QosClass::kBulk) << i;
  for (const auto& e : evicted) {
    EXPECT_FALSE(store_->base().contains(e.doc_id)) << e.doc_id;
    EXPECT_TRUE(store_->is_evicted(e.doc_id)) << e.doc_id;
    EXPECT_NE(e.qos_class, QosClass::kCritical);
    EXPECT_EQ(e.size_bytes, sizes[e.doc_id]) << e.doc_id;
    EXPECT_EQ(e.timestamp, now);
  }
  EXPECT_EQ(guard.storage().used_bytes(), total_size());
  EXPECT_LE(guard.storage().storage_pressure(), 0.7);
  auto done = guard.audit().get_by_action(AuditAction::kCleanupCompleted);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].size_bytes, r.eviction->bytes_freed);
  auto protection = guard.audit().get_by_action(AuditAction::kMarkedProtected);
  ASSERT_EQ(protection.size(), 1u);
  EXPECT_EQ(protection[0].doc_id, "bulk:b3");
  AuditSummary s = guard.summary();
  EXPECT_EQ(s.total_evictions, evicted.size());
  EXPECT_DOUBLE_EQ(s.eviction_success_rate(), 1.0);
  auto exported = json::parse(guard.audit_json());
  EXPECT_EQ(exported.size(), guard.audit().size());

  // Sync cannot resurrect it: peer writes are refused, and it is not offered in negentropy.
  auto merged = store_->merge_bytes("bulk:b0", saved_b0, now + 1);
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(merged.error().code, "EVICTED");
  PutOptions from_peer;
  from_peer.from_peer = true;
  auto peer_json = store_->put_json("bulk:b0", json{{"data", "peer"}}, now + 1, from_peer);
  ASSERT_FALSE(peer_json.ok());
  EXPECT_EQ(peer_json.error().code, "EVICTED");
  EXPECT_FALSE(store_->base().contains("bulk:b0"));
  auto items = store_->base().sync_items();
  ASSERT_TRUE(items.ok());
  for (const auto& it : *items) EXPECT_FALSE(store_->is_evicted(it.key)) << it.key;
  EXPECT_EQ(items->size(), *store_->count());

  // A local write brings it back and clears the mark; it is tracked again.
  put("bulk:b0", 100, now + 2);
  EXPECT_FALSE(store_->is_evicted("bulk:b0"));
  EXPECT_TRUE(guard.storage().contains("bulk:b0"));
  doc::Document peer(doc::ActorId(16, 0xBB));
  ASSERT_TRUE(peer.put(doc::kRoot, "peer", std::int64_t{1}).ok());
  EXPECT_TRUE(store_->merge_bytes("bulk:b0", peer.save(), now + 3).ok());

  auto status = guard.status_json(now);
  EXPECT_EQ(status["last_cycle"]["eviction"]["docs_evicted"], r.eviction->docs_evicted);
  EXPECT_EQ(status["metrics"]["by_class"]["Critical"]["doc_count"], 4);
}

TEST_F(StorageGuardTest, EvictionMarksSurviveRestart) {
  put("bulk:b0", 1000, kT0);
  const Bytes saved = **store_->base().read("bulk:b0");
  auto r = store_->evict("bulk:b0", kT0 + 1);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  EXPECT_FALSE(*store_->evict("bulk:b0", kT0 + 2));  // absent now
  EXPECT_FALSE(*store_->evict("bulk:never", kT0 + 2));
  EXPECT_EQ(store_->evict("nocolon", kT0).error().code, "INVALID_KEY");
  EXPECT_FALSE(store_->base().get_tombstone("bulk:b0")->has_value());  // not deleted mesh-wide
  reopen();
  EXPECT_TRUE(store_->is_evicted("bulk:b0"));
  EXPECT_EQ(store_->evicted_keys(), std::vector<std::string>{"bulk:b0"});
  EXPECT_EQ(store_->merge_bytes("bulk:b0", saved, kT0 + 3).error().code, "EVICTED");
  // An operator may forget the mark; then sync may bring the document back.
  EXPECT_TRUE(*store_->clear_evicted("bulk:b0"));
  EXPECT_FALSE(*store_->clear_evicted("bulk:b0"));
  EXPECT_TRUE(store_->merge_bytes("bulk:b0", saved, kT0 + 4).ok());
  reopen();
  EXPECT_FALSE(store_->is_evicted("bulk:b0"));
}

TEST_F(StorageGuardTest, LocalPutManyClearsMarks) {
  put("bulk:b0", 10, kT0);
  ASSERT_TRUE(store_->evict("bulk:b0", kT0).ok());
  doc::Document d(doc::ActorId(16, 0xAA));
  ASSERT_TRUE(d.put(doc::kRoot, "v", std::int64_t{1}).ok());
  auto r = store_->put_many({{"bulk:b0", &d}}, kT0 + 1);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE((*r)[0].ok());
  EXPECT_FALSE(store_->is_evicted("bulk:b0"));
}

TEST_F(StorageGuardTest, LifecycleTtlSoftDeleteAndEvict) {
  // Bulk: TTL 5 min, soft delete after 1 min. "bulk" uses the default SoftDelete policy,
  // "tracks" (also classified Bulk here) the Tombstone policy.
  put("bulk:old", 100, kT0);                           // 6 min old at `now` -> TTL expired
  put("tracks:old", 100, kT0);                         // same, tombstoned
  put("bulk:mid", 100, kT0 + 4 * kMinute);             // 2 min old -> soft delete
  put("bulk:young", 100, kT0 + 6 * kMinute - 30'000);  // 30 s -> retained
  put("alerts:a", 100, kT0 - 100 * kMinute);           // Critical: retained at any age
  put("low:prot", 100, kT0 - 100 * kMinute);           // protected
  StorageGuard guard(*store_, loop_, classify, 1'000'000);
  ASSERT_TRUE(guard.start().ok());
  guard.protect("low:prot", kT0);
  const UnixMillis now = kT0 + 6 * kMinute;
  GuardCycleReport r = guard.run_cycle(now);
  EXPECT_FALSE(r.eviction);  // pressure is tiny
  EXPECT_EQ(r.ttl_expired, 2u);
  EXPECT_EQ(r.soft_deleted, 1u);
  EXPECT_EQ(r.lifecycle_failures, 0u);

  EXPECT_TRUE(store_->base().meta("bulk:old")->value().soft_deleted);
  EXPECT_FALSE(store_->base().contains("tracks:old"));
  EXPECT_TRUE(store_->base().get_tombstone("tracks:old")->has_value());
  EXPECT_TRUE(store_->base().meta("bulk:mid")->value().soft_deleted);
  EXPECT_FALSE(store_->base().meta("bulk:young")->value().soft_deleted);
  EXPECT_TRUE(store_->base().contains("alerts:a"));
  EXPECT_FALSE(store_->base().meta("low:prot")->value().soft_deleted);

  auto ttl = guard.audit().get_by_action(AuditAction::kTtlExpired);
  ASSERT_EQ(ttl.size(), 2u);
  EXPECT_EQ(ttl[0].doc_id, "bulk:old");
  EXPECT_EQ(ttl[0].metadata, "soft-deleted");
  EXPECT_EQ(ttl[0].reason, "Document exceeded TTL (age: 360 seconds)");
  EXPECT_EQ(ttl[1].doc_id, "tracks:old");
  EXPECT_EQ(ttl[1].metadata, "tombstoned");
  auto soft = guard.audit().get_by_action(AuditAction::kSoftDeleted);
  ASSERT_EQ(soft.size(), 1u);
  EXPECT_EQ(soft[0].doc_id, "bulk:mid");

  // A soft-deleted document that expires again is evicted locally instead of rewritten.
  GuardCycleReport r2 = guard.run_cycle(now + 6 * kMinute);
  EXPECT_FALSE(store_->base().contains("bulk:old"));
  EXPECT_TRUE(store_->is_evicted("bulk:old"));
  EXPECT_GE(r2.ttl_expired, 1u);
  EXPECT_EQ(guard.storage().used_bytes(), total_size());
}

TEST_F(StorageGuardTest, LifecycleEvictsUnderPressureAndSkipsImmutable) {
  store_->base().policies().set("low", store::DeletionPolicy::immutable());
  put("low:l0", 4000, kT0);  // Low: TTL 1 h, soft delete after 5 min (immutable: skipped)
  put("normal:n0", 4000, kT0);
  StorageGuardOptions opts;
  StorageGuard guard(*store_, loop_, classify,
                     static_cast<std::uint64_t>(static_cast<double>(total_size()) / 0.8),
                     EvictionConfig{}, opts);
  ASSERT_TRUE(guard.start().ok());
  // Pressure 0.8 (> Low's 0.75, < Normal's 0.85); 6 min: Low is past its 5 min minimum.
  GuardCycleReport r = guard.run_cycle(kT0 + 6 * kMinute);
  EXPECT_EQ(r.lifecycle_skipped, 1u);  // the soft delete decision hits an immutable collection
  EXPECT_TRUE(store_->base().contains("low:l0"));
  EXPECT_TRUE(store_->base().contains("normal:n0"));
}

TEST_F(StorageGuardTest, LifecyclePressureEvictionStopsWhenTheClassLevelIsMet) {
  // 10 Low documents, 6 min old (past the 5 min minimum, before the 1 h TTL), soft delete off.
  LifecyclePolicies lifecycle;
  LifecyclePolicy low = LifecyclePolicy::for_qos_class(QosClass::kLow);
  low.use_soft_delete = false;
  lifecycle.set(QosClass::kLow, low);
  for (int i = 0; i < 10; ++i) put("low:l" + std::to_string(i), 1000, kT0 + i);
  StorageGuardOptions opts;
  opts.lifecycle = lifecycle;
  EvictionConfig cfg;
  cfg.eviction_threshold = 0.99;  // keep the controller out of it
  StorageGuard guard(*store_, loop_, classify,
                     static_cast<std::uint64_t>(static_cast<double>(total_size()) / 0.8), cfg,
                     opts);
  ASSERT_TRUE(guard.start().ok());
  GuardCycleReport r = guard.run_cycle(kT0 + 6 * kMinute);
  // From 0.8 down to Low's level 0.75: one document (to 0.72), not all ten.
  EXPECT_EQ(r.lifecycle_evicted, 1u);
  EXPECT_FALSE(store_->base().contains("low:l0"));  // the oldest
  EXPECT_TRUE(store_->base().contains("low:l1"));
  EXPECT_LE(guard.storage().storage_pressure(), 0.75);
  EXPECT_FALSE(r.eviction);
}

// Keys still stored when the first kDeleted event of a store arrives (events run after commit).
class FirstDeletionWatch {
 public:
  explicit FirstDeletionWatch(DocumentStore& store)
      : sub_(store.subscribe("", [this, &store](const store::ChangeEvent& e) {
          if (e.kind != store::ChangeKind::kDeleted || seen_) return;
          seen_ = true;
          still_stored_ = store.base().scan_prefix("", /*include_deleted=*/true).value();
          for (const std::string& k : store.evicted_keys()) marked_.insert(k);
        })) {}
  bool seen() const { return seen_; }
  // Every key evicted by the cycle was gone (and marked) at the first event: one commit.
  void expect_all_gone_at_once(const std::vector<std::string>& evicted) const {
    ASSERT_TRUE(seen_);
    for (const std::string& k : evicted) {
      EXPECT_EQ(std::count(still_stored_.begin(), still_stored_.end(), k), 0) << k;
      EXPECT_EQ(marked_.count(k), 1u) << k;
    }
  }

 private:
  bool seen_ = false;
  std::vector<std::string> still_stored_;
  std::set<std::string> marked_;
  store::Subscription sub_;
};

TEST_F(StorageGuardTest, PressureEvictionsOfACycleCommitTogether) {
  for (int i = 0; i < 6; ++i) put("bulk:b" + std::to_string(i), 2000, kT0 + i);
  put("alerts:a0", 2000, kT0);
  EvictionConfig cfg;
  cfg.compress_before_eviction = false;
  StorageGuardOptions opts;
  opts.apply_lifecycle = false;
  StorageGuard guard(*store_, loop_, classify,
                     static_cast<std::uint64_t>(static_cast<double>(total_size()) / 0.95), cfg,
                     opts);
  ASSERT_TRUE(guard.start().ok());
  FirstDeletionWatch watch(*store_);
  GuardCycleReport r = guard.run_cycle(kT0 + 10 * kMinute);
  ASSERT_TRUE(r.eviction);
  EXPECT_EQ(r.eviction->failures, 0u);
  const std::vector<std::string> evicted = store_->evicted_keys();
  ASSERT_GE(evicted.size(), 2u);
  EXPECT_EQ(evicted.size(), r.eviction->docs_evicted);
  watch.expect_all_gone_at_once(evicted);
  EXPECT_EQ(guard.storage().used_bytes(), total_size());
  EXPECT_LE(guard.storage().storage_pressure(), 0.7);
  // Outside run_cycle the controller still evicts (one document per transaction).
  auto forced = guard.controller().force_eviction(1, kT0 + 11 * kMinute);
  EXPECT_EQ(forced.docs_evicted, 1u);
  EXPECT_EQ(store_->evicted_keys().size(), evicted.size() + 1);
  EXPECT_EQ(guard.storage().used_bytes(), total_size());
}

TEST_F(StorageGuardTest, LifecycleEvictionsOfAPassCommitTogether) {
  LifecyclePolicies lifecycle;
  LifecyclePolicy low = LifecyclePolicy::for_qos_class(QosClass::kLow);
  low.use_soft_delete = false;
  lifecycle.set(QosClass::kLow, low);
  for (int i = 0; i < 10; ++i) put("low:l" + std::to_string(i), 1000, kT0 + i);
  StorageGuardOptions opts;
  opts.lifecycle = lifecycle;
  EvictionConfig cfg;
  cfg.eviction_threshold = 0.99;  // keep the controller out of it
  StorageGuard guard(*store_, loop_, classify,
                     static_cast<std::uint64_t>(static_cast<double>(total_size()) / 0.95), cfg,
                     opts);
  ASSERT_TRUE(guard.start().ok());
  FirstDeletionWatch watch(*store_);
  GuardCycleReport r = guard.run_cycle(kT0 + 6 * kMinute);
  // From 0.95 down to Low's level 0.75: the oldest documents, several of them.
  ASSERT_GE(r.lifecycle_evicted, 2u);
  EXPECT_EQ(r.lifecycle_failures, 0u);
  const std::vector<std::string> evicted = store_->evicted_keys();
  EXPECT_EQ(evicted.size(), r.lifecycle_evicted);
  EXPECT_TRUE(std::count(evicted.begin(), evicted.end(), "low:l0"));
  watch.expect_all_gone_at_once(evicted);
  EXPECT_LE(guard.storage().storage_pressure(), 0.75);
  EXPECT_EQ(guard.storage().used_bytes(), total_size());
  EXPECT_EQ(guard.audit().get_by_action(AuditAction::kEvicted).size(), r.lifecycle_evicted);
}

TEST_F(StorageGuardTest, CompactsBeforeEvicting) {
  // Many small edits leave a tail; compaction (the compression step) shrinks it.
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(store_->put_json("normal:n0", json{{"k" + std::to_string(i), i}}, kT0 + i).ok());
  }
  const std::uint64_t before = size_of("normal:n0");
  EvictionConfig cfg;
  StorageGuardOptions opts;
  opts.apply_lifecycle = false;
  StorageGuard guard(*store_, loop_, classify,
                     static_cast<std::uint64_t>(static_cast<double>(before) / 0.95), cfg, opts);
  ASSERT_TRUE(guard.start().ok());
  GuardCycleReport r = guard.run_cycle(kT0 + kMinute);
  ASSERT_TRUE(r.eviction);
  EXPECT_EQ(r.eviction->compressions, 1u);
  EXPECT_GT(r.eviction->compression_savings, 0u);
  EXPECT_TRUE(store_->base().contains("normal:n0"));  // Normal is young: kept
  EXPECT_LT(size_of("normal:n0"), before);
  EXPECT_EQ(guard.storage().used_bytes(), size_of("normal:n0"));
  auto comp = guard.audit().get_by_action(AuditAction::kCompressed);
  ASSERT_EQ(comp.size(), 1u);
  EXPECT_NE(comp[0].reason.find("% reduction"), std::string::npos);
}

TEST_F(StorageGuardTest, TimerRunsCyclesEveryInterval) {
  put("bulk:b0", 4000, loop_.unix_millis());
  StorageGuard guard(*store_, loop_, classify, 4000 * 10);
  ASSERT_TRUE(guard.start().ok());
  ASSERT_TRUE(guard.start().ok());  // idempotent
  EXPECT_FALSE(guard.last_cycle());
  loop_.advance(std::chrono::seconds(9));
  EXPECT_FALSE(guard.last_cycle());
  loop_.advance(std::chrono::seconds(1));
  ASSERT_TRUE(guard.last_cycle());
  EXPECT_EQ(guard.last_cycle()->at, loop_.unix_millis());
  // Bulk soft-deletes after 1 min: the 70 s cycle does it (and restarts its age).
  loop_.advance(std::chrono::seconds(60));
  ASSERT_TRUE(store_->base().contains("bulk:b0"));
  EXPECT_TRUE(store_->base().meta("bulk:b0")->value().soft_deleted);
  // 5 min (the TTL) later the soft-deleted document expires and is evicted locally.
  loop_.advance(std::chrono::minutes(6));
  EXPECT_FALSE(store_->base().contains("bulk:b0"));
  EXPECT_TRUE(store_->is_evicted("bulk:b0"));
  EXPECT_EQ(guard.audit().get_by_action(AuditAction::kSoftDeleted).size(), 1u);
  EXPECT_EQ(guard.audit().get_by_action(AuditAction::kTtlExpired).size(), 1u);
  guard.stop();
  EXPECT_FALSE(guard.running());
  EXPECT_EQ(loop_.pending(), 0u);
}

TEST_F(StorageGuardTest, CutShortCyclesContinueInSlicesUntilTheTarget) {
  const UnixMillis start = loop_.unix_millis();
  for (int i = 0; i < 6; ++i) put("bulk:b" + std::to_string(i), 1000, start - 10 * kMinute);
  put("alerts:a", 1000, start);
  EvictionConfig cfg;
  cfg.compress_before_eviction = false;
  cfg.max_evictions_per_cycle = 1;
  StorageGuardOptions opts;
  opts.apply_lifecycle = false;
  // 7 similar documents at 0.95: the target 0.7 needs 2 evictions (to 5/7 = 0.68).
  StorageGuard guard(*store_, loop_, classify,
                     static_cast<std::uint64_t>(static_cast<double>(total_size()) / 0.95), cfg,
                     opts);
  ASSERT_TRUE(guard.start().ok());
  loop_.advance(std::chrono::seconds(10));
  ASSERT_TRUE(guard.last_cycle());
  EXPECT_TRUE(guard.last_cycle()->draining);
  EXPECT_EQ(guard.audit().get_by_action(AuditAction::kEvicted).size(), 1u);
  // Pressure is now ~0.81: below the 0.9 threshold, but the drain goes on to the target.
  loop_.advance(std::chrono::milliseconds(100));
  EXPECT_EQ(guard.audit().get_by_action(AuditAction::kEvicted).size(), 2u);
  EXPECT_FALSE(guard.last_cycle()->draining);
  EXPECT_LE(guard.storage().storage_pressure(), 0.7);
  EXPECT_TRUE(store_->base().contains("alerts:a"));
  // Back to the normal interval: nothing more happens for a while.
  loop_.advance(std::chrono::seconds(5));
  EXPECT_EQ(guard.audit().get_by_action(AuditAction::kEvicted).size(), 2u);
}

}  // namespace
}  // namespace peat::qos
