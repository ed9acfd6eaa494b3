#include "peat/qos/audit_log.hpp"

#include <gtest/gtest.h>

namespace peat::qos {
namespace {

constexpr UnixMillis kT = 1'700'000'000'123;  // 2023-11-14T22:13:20.123Z

TEST(AuditLog, ActionNames) {
  EXPECT_EQ(to_string(AuditAction::kEvicted), "EVICTED");
  EXPECT_EQ(to_string(AuditAction::kCompressed), "COMPRESSED");
  EXPECT_EQ(to_string(AuditAction::kMarkedProtected), "PROTECTED");
  EXPECT_EQ(to_string(AuditAction::kUnmarkedProtected), "UNPROTECTED");
  EXPECT_EQ(to_string(AuditAction::kFailedEviction), "EVICT_FAILED");
  EXPECT_EQ(to_string(AuditAction::kTtlExpired), "TTL_EXPIRED");
  EXPECT_EQ(to_string(AuditAction::kSoftDeleted), "SOFT_DELETED");
  EXPECT_EQ(to_string(AuditAction::kCleanupCompleted), "CLEANUP_DONE");
  EXPECT_EQ(json_name(AuditAction::kFailedEviction), "FailedEviction");
}

TEST(AuditLog, Rfc3339) {
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339(kT), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(rfc3339(951'782'400'000), "2000-02-29T00:00:00.000Z");
}

TEST(AuditLog, EntryFactories) {
  auto c = AuditEntry::compression(kT, "d", QosClass::kNormal, 1000, 600);
  EXPECT_EQ(c.action, AuditAction::kCompressed);
  EXPECT_NE(c.reason.find("40% reduction"), std::string::npos);
  EXPECT_EQ(c.size_bytes, 600u);
  auto grew = AuditEntry::compression(kT, "d", QosClass::kNormal, 100, 150);
  EXPECT_NE(grew.reason.find("(0% reduction)"), std::string::npos);
  auto zero = AuditEntry::compression(kT, "d", QosClass::kNormal, 0, 0);
  EXPECT_NE(zero.reason.find("(0% reduction)"), std::string::npos);
  auto t = AuditEntry::ttl_expired(kT, "d", QosClass::kLow, 3600);
  EXPECT_EQ(t.reason, "Document exceeded TTL (age: 3600 seconds)");
  auto done = AuditEntry::cleanup_completed(kT, 100, 1'000'000, 250);
  EXPECT_EQ(done.doc_id, "system");
  EXPECT_EQ(done.qos_class, QosClass::kNormal);
  EXPECT_EQ(done.reason, "Evicted 100 docs, freed 1000000 bytes in 250ms");
  EXPECT_EQ(done.size_bytes, 1'000'000u);
}

TEST(AuditLog, RingBufferDropsOldest) {
  EvictionAuditLog log(3);
  for (int i = 1; i <= 4; ++i) {
    log.record(AuditEntry::eviction(kT + i, "doc-" + std::to_string(i), QosClass::kBulk, 100, "r"));
  }
  auto all = log.get_all();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].doc_id, "doc-2");
  EXPECT_EQ(all[2].doc_id, "doc-4");
  EXPECT_EQ(EvictionAuditLog(0).capacity(), 1u);
  EXPECT_EQ(EvictionAuditLog().capacity(), 10'000u);
}

TEST(AuditLog, Queries) {
  EvictionAuditLog log;
  log.record(AuditEntry::eviction(kT, "a", QosClass::kBulk, 100, "r"));
  log.record(AuditEntry::compression(kT + 10, "b", QosClass::kLow, 1000, 500));
  log.record(AuditEntry::failed_eviction(kT + 20, "c", QosClass::kNormal, "IO error"));
  log.record(AuditEntry::eviction(kT + 30, "d", QosClass::kBulk, 300, "r"));
  EXPECT_EQ(log.get_by_class(QosClass::kBulk).size(), 2u);
  EXPECT_TRUE(log.get_by_class(QosClass::kCritical).empty());
  EXPECT_EQ(log.get_by_action(AuditAction::kCompressed).size(), 1u);
  auto range = log.get_in_range(kT + 10, kT + 20);  // inclusive both ends
  ASSERT_EQ(range.size(), 2u);
  EXPECT_EQ(range[0].doc_id, "b");
  auto recent = log.get_recent(2);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].doc_id, "c");
  EXPECT_EQ(recent[1].doc_id, "d");
  EXPECT_EQ(log.get_recent(99).size(), 4u);
  log.clear();
  EXPECT_TRUE(log.empty());
}

TEST(AuditLog, SummaryAndSuccessRate) {
  EvictionAuditLog log;
  EXPECT_DOUBLE_EQ(log.summary().eviction_success_rate(), 1.0);
  log.record(AuditEntry::eviction(kT, "a", QosClass::kBulk, 100, "r"));
  log.record(AuditEntry::eviction(kT, "b", QosClass::kLow, 200, "r"));
  log.record(AuditEntry::eviction(kT, "c", QosClass::kBulk, 300, "r"));
  log.record(AuditEntry::failed_eviction(kT, "d", QosClass::kBulk, "x"));
  log.record(AuditEntry::compression(kT, "e", QosClass::kLow, 10, 5));
  log.record(AuditEntry::cleanup_completed(kT, 3, 600, 1));
  AuditSummary s = log.summary();
  EXPECT_EQ(s.total_entries, 6u);
  EXPECT_EQ(s.total_evictions, 3u);
  EXPECT_EQ(s.bytes_evicted, 600u);
  EXPECT_EQ(s.failed_evictions, 1u);
  EXPECT_EQ(s.total_compressions, 1u);
  EXPECT_EQ(s.evictions_for_class(QosClass::kBulk), 2u);
  EXPECT_EQ(s.evictions_for_class(QosClass::kLow), 1u);
  EXPECT_DOUBLE_EQ(s.eviction_success_rate(), 0.75);
  EXPECT_EQ(s.to_json()["evictions_by_class"]["Bulk"], 2);
}

TEST(AuditLog, ExportJson) {
  EvictionAuditLog log;
  log.record(AuditEntry::eviction(kT, "a", QosClass::kBulk, 100, "why"));
  log.record(AuditEntry::protection(kT, "b", QosClass::kHigh, "Operator override"));
  std::string text = log.export_json();
  EXPECT_NE(text.find('\n'), std::string::npos);  // pretty
  auto j = nlohmann::json::parse(text);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["timestamp"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j[0]["action"], "Evicted");
  EXPECT_EQ(j[0]["qos_class"], "Bulk");
  EXPECT_EQ(j[0]["size_bytes"], 100);
  EXPECT_EQ(j[0]["reason"], "why");
  EXPECT_TRUE(j[0]["metadata"].is_null());
  EXPECT_EQ(j[1]["action"], "MarkedProtected");
  EXPECT_TRUE(j[1]["size_bytes"].is_null());
}

}  // namespace
}  // namespace peat::qos
