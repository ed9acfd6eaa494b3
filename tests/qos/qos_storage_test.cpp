#include "peat/qos/qos_storage.hpp"

#include <gtest/gtest.h>

namespace peat::qos {
namespace {

constexpr UnixMillis kNow = 1'800'000'000'000;

StoredDocument doc(std::string id, QosClass c, std::uint64_t size, std::uint64_t age_s = 0) {
  StoredDocument d;
  d.doc_id = std::move(id);
  d.qos_class = c;
  d.size_bytes = size;
  d.stored_at = kNow - age_s * 1000;
  d.last_accessed = d.stored_at;
  return d;
}

TEST(QosStorage, ThresholdClamped) {
  EXPECT_DOUBLE_EQ(QosAwareStorage(100, {}, 0.1).eviction_threshold(), 0.5);
  EXPECT_DOUBLE_EQ(QosAwareStorage(100, {}, 1.5).eviction_threshold(), 0.99);
  EXPECT_DOUBLE_EQ(QosAwareStorage(100).eviction_threshold(), 0.9);
  EXPECT_EQ(QosAwareStorage().max_bytes(), std::uint64_t{1} << 30);
}

TEST(QosStorage, RegisterReplaceUnregisterAdjustBytes) {
  QosAwareStorage s(1000);
  s.register_document(doc("a", QosClass::kBulk, 100));
  s.register_document(doc("b", QosClass::kLow, 200));
  EXPECT_EQ(s.used_bytes(), 300u);
  s.register_document(doc("a", QosClass::kBulk, 50));
  EXPECT_EQ(s.used_bytes(), 250u);
  EXPECT_EQ(s.document_count(), 2u);
  auto removed = s.unregister_document("b");
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->size_bytes, 200u);
  EXPECT_EQ(s.used_bytes(), 50u);
  EXPECT_FALSE(s.unregister_document("b"));
  EXPECT_FALSE(s.contains("b"));
}

TEST(QosStorage, ReplaceKeepsProtection) {
  QosAwareStorage s(1000);
  s.register_document(doc("a", QosClass::kBulk, 100));
  EXPECT_TRUE(s.mark_protected("a"));
  s.register_document(doc("a", QosClass::kBulk, 120));
  EXPECT_TRUE(s.get("a")->is_protected);
  EXPECT_TRUE(s.unmark_protected("a"));
  EXPECT_FALSE(s.get("a")->is_protected);
  EXPECT_FALSE(s.mark_protected("missing"));
}

TEST(QosStorage, PressureAndShouldEvictAtThreshold) {
  QosAwareStorage s(1000);
  s.register_document(doc("a", QosClass::kBulk, 899));
  EXPECT_FALSE(s.should_evict());
  s.register_document(doc("a", QosClass::kBulk, 900));
  EXPECT_DOUBLE_EQ(s.storage_pressure(), 0.9);
  EXPECT_TRUE(s.should_evict());
  EXPECT_DOUBLE_EQ(QosAwareStorage(0).storage_pressure(), 0.0);
}

TEST(QosStorage, UpdateCompressedAccountsRealSize) {
  QosAwareStorage s(1000);
  s.register_document(doc("a", QosClass::kNormal, 400));
  EXPECT_EQ(s.update_compressed("a", 100), 300u);
  EXPECT_EQ(s.used_bytes(), 100u);
  EXPECT_TRUE(s.get("a")->compressed);
  // A "compression" that grew the document: nothing saved, accounting follows the real size.
  EXPECT_EQ(s.update_compressed("a", 150), 0u);
  EXPECT_EQ(s.used_bytes(), 150u);
  EXPECT_FALSE(s.update_compressed("missing", 1));
}

TEST(QosStorage, TouchUpdatesIdle) {
  QosAwareStorage s(1000);
  s.register_document(doc("a", QosClass::kNormal, 1, 7200));
  EXPECT_EQ(s.get("a")->idle_seconds(kNow), 7200u);
  EXPECT_TRUE(s.touch("a", kNow));
  EXPECT_EQ(s.get("a")->idle_seconds(kNow), 0u);
  EXPECT_EQ(s.get("a")->age_seconds(kNow), 7200u);
  EXPECT_FALSE(s.touch("b", kNow));
}

TEST(QosStorage, CandidatesExcludeCriticalProtectedAndRetained) {
  QosAwareStorage s(1000);
  s.register_document(doc("crit", QosClass::kCritical, 100, 100 * 86400));
  s.register_document(doc("bulk-old", QosClass::kBulk, 100, 400));   // past max retention
  s.register_document(doc("bulk-young", QosClass::kBulk, 100, 30));  // below min retention
  s.register_document(doc("bulk-prot", QosClass::kBulk, 100, 400));
  s.mark_protected("bulk-prot");
  s.register_document(doc("high", QosClass::kHigh, 100, 2 * 86400));  // pressure 0.5 < 0.95
  auto c = s.all_eviction_candidates(kNow);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].doc_id, "bulk-old");
  EXPECT_EQ(c[0].age_seconds, 400u);
}

TEST(QosStorage, ScoreFormula) {
  QosAwareStorage s(1'000'000);
  // Bulk (evict prio 1): 10*5; age 150/300 -> 2.5; idle 150/3600*3; size 500000/1e6 -> 0.5.
  StoredDocument d = doc("x", QosClass::kBulk, 500'000, 150);
  double expected = 50.0 + 2.5 + 3.0 * 150.0 / 3600.0 + 0.5 + 2.0 * 0.25;
  EXPECT_NEAR(s.eviction_score(d, 0.25, kNow), expected, 1e-9);
  // Factors saturate at 1.
  StoredDocument old = doc("y", QosClass::kLow, 5'000'000, 100'000);
  EXPECT_NEAR(s.eviction_score(old, 1.0, kNow), 40.0 + 5 + 3 + 1 + 2, 1e-9);
  // Infinite retention has no age factor.
  StoredDocument crit = doc("z", QosClass::kCritical, 0, 100'000);
  EXPECT_NEAR(s.eviction_score(crit, 0.0, kNow), 10.0 + 3.0, 1e-9);
}

TEST(QosStorage, CandidatesSortedAndCutAtBytesNeeded) {
  QosAwareStorage s(1000);
  s.register_document(doc("low", QosClass::kLow, 300, 4000));    // > 1 h max
  s.register_document(doc("bulk1", QosClass::kBulk, 200, 400));  // > 5 min max
  s.register_document(doc("bulk2", QosClass::kBulk, 200, 1000));
  auto all = s.all_eviction_candidates(kNow);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].doc_id, "bulk2");  // Bulk first, older first
  EXPECT_EQ(all[1].doc_id, "bulk1");
  EXPECT_EQ(all[2].doc_id, "low");
  EXPECT_EQ(s.eviction_candidates(1, kNow).size(), 1u);
  EXPECT_EQ(s.eviction_candidates(200, kNow).size(), 1u);
  EXPECT_EQ(s.eviction_candidates(201, kNow).size(), 2u);
  EXPECT_EQ(s.eviction_candidates(10'000, kNow).size(), 3u);
  EXPECT_TRUE(s.eviction_candidates(0, kNow).empty());
}

TEST(QosStorage, CompressionCandidates) {
  QosAwareStorage s(1000);
  s.register_document(doc("crit", QosClass::kCritical, 200));
  s.register_document(doc("n1", QosClass::kNormal, 200));
  s.register_document(doc("n2", QosClass::kNormal, 200));
  s.register_document(doc("prot", QosClass::kNormal, 100));
  s.mark_protected("prot");
  // pressure 0.7: not strictly above 0.7 -> nothing.
  EXPECT_TRUE(s.compression_candidates().empty());
  s.register_document(doc("extra", QosClass::kLow, 10));
  EXPECT_EQ(s.compression_candidates(), (std::vector<std::string>{"extra", "n1", "n2"}));
  s.update_compressed("n1", 195);  // pressure 0.705: still above 0.7
  EXPECT_EQ(s.compression_candidates(), (std::vector<std::string>{"extra", "n2"}));
}

TEST(QosStorage, MetricsPerClass) {
  QosAwareStorage s(1000);
  s.register_document(doc("a", QosClass::kBulk, 100, 10));
  s.register_document(doc("b", QosClass::kBulk, 300, 30));
  s.register_document(doc("c", QosClass::kCritical, 450, 5));
  s.mark_protected("c");
  s.update_compressed("b", 300);
  StorageMetrics m = s.metrics(kNow);
  EXPECT_EQ(m.used_bytes, 850u);
  EXPECT_EQ(m.available_bytes(), 150u);
  EXPECT_DOUBLE_EQ(m.utilization, 0.85);
  EXPECT_TRUE(m.under_pressure());
  EXPECT_FALSE(m.is_critical());
  const auto& bulk = m.by_class[qos_index(QosClass::kBulk)];
  EXPECT_EQ(bulk.doc_count, 2u);
  EXPECT_EQ(bulk.total_bytes, 400u);
  EXPECT_EQ(bulk.avg_age_seconds, 20u);
  EXPECT_EQ(bulk.oldest_doc_age, 30u);
  EXPECT_EQ(bulk.compressed_count, 1u);
  EXPECT_EQ(m.by_class[qos_index(QosClass::kCritical)].protected_count, 1u);
  auto j = m.to_json();
  EXPECT_EQ(j["by_class"]["Bulk"]["doc_count"], 2);
  EXPECT_EQ(j["used_bytes"], 850);
}

TEST(QosStorage, PressureFlagsAreStrict) {
  StorageMetrics m;
  m.utilization = 0.8;
  EXPECT_FALSE(m.under_pressure());
  m.utilization = 0.95;
  EXPECT_TRUE(m.under_pressure());
  EXPECT_FALSE(m.is_critical());
  m.utilization = 0.951;
  EXPECT_TRUE(m.is_critical());
}

}  // namespace
}  // namespace peat::qos
