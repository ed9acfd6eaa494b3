#include "peat/qos/eviction_controller.hpp"

#include <gtest/gtest.h>

namespace peat::qos {
namespace {

constexpr UnixMillis kNow = 1'800'000'000'000;

StoredDocument doc(std::string id, QosClass c, std::uint64_t size, std::uint64_t age_s) {
  StoredDocument d;
  d.doc_id = std::move(id);
  d.qos_class = c;
  d.size_bytes = size;
  d.stored_at = kNow - age_s * 1000;
  d.last_accessed = d.stored_at;
  return d;
}

struct Fixture {
  QosAwareStorage storage{10'000};
  EvictionAuditLog audit;
  std::vector<std::string> evicted;
};

TEST(EvictionController, ConfigPresets) {
  EvictionConfig d = EvictionConfig::defaults();
  EXPECT_DOUBLE_EQ(d.eviction_threshold, 0.9);
  EXPECT_DOUBLE_EQ(d.target_pressure, 0.7);
  EXPECT_TRUE(d.compress_before_eviction);
  EXPECT_EQ(d.max_evictions_per_cycle, 1000u);
  EXPECT_EQ(d.max_cycle_duration_ms, 5000u);
  EvictionConfig a = EvictionConfig::aggressive();
  EXPECT_DOUBLE_EQ(a.eviction_threshold, 0.75);
  EXPECT_DOUBLE_EQ(a.target_pressure, 0.5);
  EXPECT_EQ(a.max_evictions_per_cycle, 2000u);
  EXPECT_EQ(a.max_cycle_duration_ms, 10'000u);
  EvictionConfig c = EvictionConfig::conservative();
  EXPECT_DOUBLE_EQ(c.eviction_threshold, 0.95);
  EXPECT_DOUBLE_EQ(c.target_pressure, 0.85);
  EXPECT_EQ(c.max_evictions_per_cycle, 500u);
  EXPECT_EQ(c.max_cycle_duration_ms, 3000u);
}

TEST(EvictionController, NothingBelowThreshold) {
  Fixture f;
  f.storage.register_document(doc("a", QosClass::kBulk, 8999, 1000));
  EvictionController ec(f.storage, f.audit);
  EXPECT_FALSE(ec.needs_eviction());
  EXPECT_FALSE(ec.run_eviction_cycle(kNow));
  EXPECT_TRUE(f.audit.empty());
}

TEST(EvictionController, CycleFreesDownToTargetBulkFirstNeverCritical) {
  Fixture f;
  EvictionConfig cfg;
  cfg.compress_before_eviction = false;
  for (int i = 0; i < 4; ++i) {
    f.storage.register_document(
        doc("crit" + std::to_string(i), QosClass::kCritical, 1000, 1'000'000));
  }
  f.storage.register_document(doc("bulk0", QosClass::kBulk, 1000, 1000));
  f.storage.register_document(doc("bulk1", QosClass::kBulk, 1000, 900));
  f.storage.register_document(doc("low0", QosClass::kLow, 1000, 5000));
  f.storage.register_document(doc("normal0", QosClass::kNormal, 1000, 100'000));
  f.storage.register_document(doc("high0", QosClass::kHigh, 500, 10));  // too young
  EvictionController ec(f.storage, f.audit, cfg);
  ec.set_eviction_callback([&](const std::string& id) -> Status {
    f.evicted.push_back(id);
    return {};
  });
  ASSERT_DOUBLE_EQ(f.storage.storage_pressure(), 0.85);
  EXPECT_FALSE(ec.run_eviction_cycle(kNow));  // 0.85 < 0.9
  f.storage.register_document(doc("bulk2", QosClass::kBulk, 500, 800));
  auto r = ec.run_eviction_cycle(kNow);  // pressure 0.9, target 7000: free 2000
  ASSERT_TRUE(r);
  EXPECT_EQ(f.evicted, (std::vector<std::string>{"bulk0", "bulk1"}));
  EXPECT_EQ(r->docs_evicted, 2u);
  EXPECT_EQ(r->bytes_freed, 2000u);
  EXPECT_EQ(r->by_class[qos_index(QosClass::kBulk)], 2u);
  EXPECT_DOUBLE_EQ(r->pressure_before, 0.9);
  EXPECT_DOUBLE_EQ(r->pressure_after, 0.7);
  EXPECT_TRUE(r->is_success());
  EXPECT_TRUE(r->freed_target(2000));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(f.storage.contains("crit" + std::to_string(i)));
  auto ev = f.audit.get_by_action(AuditAction::kEvicted);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].doc_id, "bulk0");
  EXPECT_EQ(ev[0].size_bytes, 1000u);
  EXPECT_NE(ev[0].reason.find("Storage pressure eviction (age: 1000s, score: "), std::string::npos);
  auto done = f.audit.get_by_action(AuditAction::kCleanupCompleted);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].reason, "Evicted 2 docs, freed 2000 bytes in 0ms");
}

TEST(EvictionController, ProtectedAndFailedDoNotStopTheCycle) {
  Fixture f;
  EvictionConfig cfg;
  cfg.compress_before_eviction = false;
  f.storage.register_document(doc("bulk0", QosClass::kBulk, 3000, 1000));
  f.storage.register_document(doc("bulk1", QosClass::kBulk, 3000, 900));
  f.storage.register_document(doc("low0", QosClass::kLow, 3000, 5000));
  EvictionController ec(f.storage, f.audit, cfg);
  ec.mark_protected("bulk0", kNow);
  EXPECT_TRUE(ec.is_protected("bulk0"));
  EXPECT_EQ(ec.protected_count(), 1u);
  ec.set_eviction_callback([&](const std::string& id) -> Status {
    if (id == "bulk1") return make_error("IO", "disk error");
    f.evicted.push_back(id);
    return {};
  });
  auto r = ec.run_eviction_cycle(kNow);  // 0.9 -> need 2000
  ASSERT_TRUE(r);
  EXPECT_EQ(f.evicted, std::vector<std::string>{"low0"});
  EXPECT_EQ(r->failures, 1u);
  EXPECT_EQ(r->docs_evicted, 1u);
  EXPECT_EQ(f.audit.get_by_action(AuditAction::kFailedEviction).size(), 1u);
  EXPECT_EQ(f.audit.get_by_action(AuditAction::kMarkedProtected).size(), 1u);
  EXPECT_DOUBLE_EQ(ec.audit_summary().eviction_success_rate(), 0.5);
  ec.unmark_protected("bulk0", kNow);
  EXPECT_FALSE(ec.is_protected("bulk0"));
  EXPECT_EQ(f.audit.get_by_action(AuditAction::kUnmarkedProtected).size(), 1u);
}

TEST(EvictionController, MissingCallbackCountsAsFailure) {
  Fixture f;
  f.storage.register_document(doc("bulk0", QosClass::kBulk, 9500, 1000));
  EvictionConfig cfg;
  cfg.compress_before_eviction = false;
  EvictionController ec(f.storage, f.audit, cfg);
  auto r = ec.run_eviction_cycle(kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->failures, 1u);
  EXPECT_EQ(r->docs_evicted, 0u);
  EXPECT_TRUE(f.storage.contains("bulk0"));
  EXPECT_FALSE(r->is_success());
}

TEST(EvictionController, CompressFirstCanSatisfyTheCycle) {
  Fixture f;
  f.storage.register_document(doc("n0", QosClass::kNormal, 4500, 10));
  f.storage.register_document(doc("n1", QosClass::kNormal, 4500, 10));
  EvictionController ec(f.storage, f.audit);
  ec.set_compression_callback(
      [](const std::string&) -> Result<std::uint64_t> { return std::uint64_t{1500}; });
  ec.set_eviction_callback([&](const std::string& id) -> Status {
    f.evicted.push_back(id);
    return {};
  });
  auto r = ec.run_eviction_cycle(kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->compressions, 2u);
  EXPECT_EQ(r->compression_savings, 6000u);
  EXPECT_TRUE(f.evicted.empty());
  EXPECT_EQ(f.storage.used_bytes(), 3000u);
  auto comp = f.audit.get_by_action(AuditAction::kCompressed);
  ASSERT_EQ(comp.size(), 2u);
  EXPECT_NE(comp[0].reason.find("66% reduction"), std::string::npos);
  // The compress-only cycle is kept in the recent results too (the Rust crate skipped it).
  EXPECT_EQ(ec.recent_stats().size(), 1u);
}

TEST(EvictionController, CompressionFailureIsAudited) {
  Fixture f;
  f.storage.register_document(doc("n0", QosClass::kNormal, 9000, 10));
  EvictionController ec(f.storage, f.audit);
  ec.set_compression_callback(
      [](const std::string&) -> Result<std::uint64_t> { return make_error("ZLIB", "bad"); });
  auto r = ec.run_eviction_cycle(kNow);
  ASSERT_TRUE(r);
  auto fails = f.audit.get_by_action(AuditAction::kFailedEviction);
  ASSERT_GE(fails.size(), 1u);
  EXPECT_EQ(fails[0].reason.rfind("Compression failed: ZLIB", 0), 0u);
}

TEST(EvictionController, MaxEvictionsPerCycle) {
  Fixture f;
  EvictionConfig cfg;
  cfg.compress_before_eviction = false;
  cfg.max_evictions_per_cycle = 2;
  for (int i = 0; i < 10; ++i) {
    f.storage.register_document(doc("b" + std::to_string(i), QosClass::kBulk, 950, 1000 + i));
  }
  EvictionController ec(f.storage, f.audit, cfg);
  ec.set_eviction_callback([](const std::string&) -> Status { return {}; });
  auto r = ec.run_eviction_cycle(kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->docs_evicted, 2u);
}

TEST(EvictionController, CycleTimeLimitUsesInjectedClock) {
  Fixture f;
  EvictionConfig cfg;
  cfg.compress_before_eviction = false;
  cfg.max_cycle_duration_ms = 100;
  for (int i = 0; i < 10; ++i) {
    f.storage.register_document(doc("b" + std::to_string(i), QosClass::kBulk, 950, 1000 + i));
  }
  EvictionController ec(f.storage, f.audit, cfg);
  Instant t{};
  ec.set_clock([&t] {
    t += std::chrono::milliseconds(40);  // every look at the clock costs 40 ms
    return t;
  });
  ec.set_eviction_callback([](const std::string&) -> Status { return {}; });
  auto r = ec.run_eviction_cycle(kNow);
  ASSERT_TRUE(r);
  EXPECT_GE(r->docs_evicted, 1u);
  EXPECT_LT(r->docs_evicted, 3u);
  EXPECT_GT(r->duration_ms, 100u);
}

TEST(EvictionController, ForceEvictionIgnoresPressureAndKeepsTenResults) {
  Fixture f;
  EvictionConfig cfg;
  cfg.compress_before_eviction = false;
  f.storage.register_document(doc("b", QosClass::kBulk, 100, 1000));
  EvictionController ec(f.storage, f.audit, cfg);
  ec.set_eviction_callback([](const std::string&) -> Status { return {}; });
  // At pressure 0.01 the Bulk doc is past max retention, so force can take it.
  EvictionResult r = ec.force_eviction(50, kNow);
  EXPECT_EQ(r.docs_evicted, 1u);
  EXPECT_FALSE(f.storage.contains("b"));
  for (int i = 0; i < 12; ++i) (void)ec.force_eviction(1, kNow);
  EXPECT_EQ(ec.recent_stats().size(), 10u);
  EXPECT_EQ(ec.force_eviction(0, kNow).docs_evicted, 0u);
}

}  // namespace
}  // namespace peat::qos
