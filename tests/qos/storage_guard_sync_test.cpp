// StorageGuard on a node of a simulated mesh (LMDB stores, SyncEngine, SimLoop): what the guard
// evicts under pressure stays evicted while the peer keeps editing it, and the accounting follows
// the writes sync applies.
#include <gtest/gtest.h>

#include "peat/qos/storage_guard.hpp"
#include "sync/engine/mesh_harness.hpp"

namespace peat::qos {
namespace {

using std::chrono::seconds;
using sync::test::Mesh;

QosClass classify(std::string_view collection) {
  if (collection == "alerts") return QosClass::kCritical;
  if (collection == "bulk") return QosClass::kBulk;
  return QosClass::kNormal;
}

std::uint64_t stored_total(store::DocumentStore& s) {
  std::uint64_t sum = 0;
  auto keys = s.base().scan_prefix("", /*include_deleted=*/true);
  for (const auto& k : keys.value()) sum += s.stored_size(k).value_or(0);
  return sum;
}

TEST(StorageGuardSync, EvictionOnOneNodeIsNotUndoneBySync) {
  Mesh m(7);
  m.add("a");
  m.add("b");
  m.link("a", "b");
  std::vector<std::string> keys;
  for (int i = 0; i < 8; ++i) keys.push_back("bulk:" + std::to_string(i));
  for (int i = 0; i < 4; ++i) keys.push_back("alerts:" + std::to_string(i));
  for (const auto& k : keys) m.write("a", k, "v", 1);
  ASSERT_TRUE(m.run_until_converged(keys, seconds(5)));

  store::DocumentStore& b = *m.node("b").store;
  EvictionConfig cfg;
  cfg.compress_before_eviction = false;
  StorageGuardOptions opts;
  opts.apply_lifecycle = false;
  StorageGuard guard(b, m.loop(), classify,
                     static_cast<std::uint64_t>(static_cast<double>(stored_total(b)) / 0.95), cfg,
                     opts);
  ASSERT_TRUE(guard.start().ok());
  // Cycles every 10 s; Bulk becomes evictable once a minute old.
  m.loop().run_for(seconds(75));
  auto evicted = guard.audit().get_by_action(AuditAction::kEvicted);
  ASSERT_FALSE(evicted.empty());
  EXPECT_LE(guard.storage().storage_pressure(), 0.7);
  for (const auto& e : evicted) {
    EXPECT_EQ(e.qos_class, QosClass::kBulk);
    EXPECT_EQ(m.json_at("b", e.doc_id), "<absent>");
    EXPECT_NE(m.json_at("a", e.doc_id), "<absent>");  // local eviction, not a delete
  }
  for (int i = 0; i < 4; ++i) EXPECT_NE(m.json_at("b", "alerts:" + std::to_string(i)), "<absent>");

  // a keeps editing everything; b does not take the evicted documents back, takes the rest,
  // and its accounting follows the writes sync applies.
  for (const auto& k : keys) m.write("a", k, "v", 2);
  m.loop().run_for(seconds(30));
  for (const auto& e : evicted) {
    EXPECT_EQ(m.json_at("b", e.doc_id), "<absent>") << e.doc_id;
    EXPECT_TRUE(b.is_evicted(e.doc_id));
  }
  // a pushed the edits and b declined each evicted document (the sync engine's Declined frame).
  const auto declined = m.node("b").engine->stats("a").declined_evicted;
  EXPECT_GE(declined, 1u);
  EXPECT_LE(declined, evicted.size());
  EXPECT_NE(m.json_at("b", "alerts:0").find("\"v\":2"), std::string::npos);
  EXPECT_EQ(guard.storage().used_bytes(), stored_total(b));
  EXPECT_TRUE(m.node("b").errors.empty());
  guard.stop();
}

}  // namespace
}  // namespace peat::qos
