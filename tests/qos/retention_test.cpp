#include "peat/qos/retention.hpp"

#include <gtest/gtest.h>

namespace peat::qos {
namespace {

TEST(Retention, DefaultTable) {
  auto c = RetentionPolicy::for_qos_class(QosClass::kCritical);
  EXPECT_EQ(c.min_retain_seconds, 7u * 86400);
  EXPECT_TRUE(c.has_infinite_retention());
  EXPECT_EQ(c.eviction_priority, 5);
  EXPECT_FALSE(c.compression_eligible);
  auto h = RetentionPolicy::for_qos_class(QosClass::kHigh);
  EXPECT_EQ(h.min_retain_seconds, 86400u);
  EXPECT_EQ(h.max_retain_seconds, 7u * 86400);
  EXPECT_EQ(h.eviction_priority, 4);
  auto n = RetentionPolicy::for_qos_class(QosClass::kNormal);
  EXPECT_EQ(n.min_retain_seconds, 3600u);
  EXPECT_EQ(n.max_retain_seconds, 86400u);
  EXPECT_EQ(n.eviction_priority, 3);
  auto l = RetentionPolicy::for_qos_class(QosClass::kLow);
  EXPECT_EQ(l.min_retain_seconds, 300u);
  EXPECT_EQ(l.max_retain_seconds, 3600u);
  EXPECT_EQ(l.eviction_priority, 2);
  auto b = RetentionPolicy::for_qos_class(QosClass::kBulk);
  EXPECT_EQ(b.min_retain_seconds, 60u);
  EXPECT_EQ(b.max_retain_seconds, 300u);
  EXPECT_EQ(b.eviction_priority, 1);
  EXPECT_TRUE(b.compression_eligible);
  EXPECT_FALSE(b.has_infinite_retention());
}

TEST(Retention, AgeBoundaries) {
  auto b = RetentionPolicy::for_qos_class(QosClass::kBulk);
  // Younger than min: kept even at full pressure; exactly min falls to the pressure rule.
  EXPECT_TRUE(b.should_retain(59, 1.0));
  EXPECT_FALSE(b.should_retain(60, 1.0));
  EXPECT_TRUE(b.should_retain(60, 0.0));
  // Exactly max is still the pressure rule; strictly older is evicted at any pressure.
  EXPECT_TRUE(b.should_retain(300, 0.0));
  EXPECT_FALSE(b.should_retain(301, 0.0));
  EXPECT_TRUE(b.should_evict(301, 0.0));
}

TEST(Retention, PressureLevelsAreRetainWhileStrictlyBelow) {
  struct Row {
    QosClass c;
    std::uint64_t age;
    double level;
  };
  for (Row r : {Row{QosClass::kHigh, 86400, 0.95}, Row{QosClass::kNormal, 7200, 0.85},
                Row{QosClass::kLow, 600, 0.75}, Row{QosClass::kBulk, 120, 0.65}}) {
    auto p = RetentionPolicy::for_qos_class(r.c);
    EXPECT_TRUE(p.should_retain(r.age, r.level - 0.01)) << to_string(r.c);
    EXPECT_FALSE(p.should_retain(r.age, r.level)) << to_string(r.c);
    EXPECT_FALSE(p.should_retain(r.age, r.level + 0.01)) << to_string(r.c);
  }
}

TEST(Retention, CriticalAlwaysRetained) {
  auto c = RetentionPolicy::for_qos_class(QosClass::kCritical);
  EXPECT_TRUE(c.should_retain(10'000'000, 1.0));
  EXPECT_TRUE(c.should_retain(UINT64_MAX, 1.0));
}

TEST(Retention, CompressOnlyEligibleAndAbove07) {
  auto n = RetentionPolicy::for_qos_class(QosClass::kNormal);
  EXPECT_FALSE(n.should_compress(0.7));
  EXPECT_TRUE(n.should_compress(0.71));
  EXPECT_FALSE(RetentionPolicy::for_qos_class(QosClass::kCritical).should_compress(0.99));
}

TEST(Retention, CustomClampsPriority) {
  EXPECT_EQ(RetentionPolicy::custom(QosClass::kNormal, 1, 2, 0, true).eviction_priority, 1);
  EXPECT_EQ(RetentionPolicy::custom(QosClass::kNormal, 1, 2, 9, true).eviction_priority, 5);
  auto p = RetentionPolicy::custom(QosClass::kNormal, 600, 7200, 3, false);
  EXPECT_EQ(p.min_retain_seconds, 600u);
  EXPECT_EQ(p.max_retain_seconds, 7200u);
  EXPECT_FALSE(p.compression_eligible);
}

TEST(Retention, StorageConstrainedPreset) {
  auto r = RetentionPolicies::storage_constrained();
  EXPECT_EQ(r.get(QosClass::kCritical), RetentionPolicy::for_qos_class(QosClass::kCritical));
  EXPECT_EQ(r.get(QosClass::kHigh).min_retain_seconds, 12u * 3600);
  EXPECT_EQ(r.get(QosClass::kHigh).max_retain_seconds, 3u * 86400);
  EXPECT_EQ(r.get(QosClass::kNormal).min_retain_seconds, 1800u);
  EXPECT_EQ(r.get(QosClass::kNormal).max_retain_seconds, 12u * 3600);
  EXPECT_EQ(r.get(QosClass::kLow).min_retain_seconds, 120u);
  EXPECT_EQ(r.get(QosClass::kLow).max_retain_seconds, 1800u);
  EXPECT_EQ(r.get(QosClass::kBulk).min_retain_seconds, 30u);
  EXPECT_EQ(r.get(QosClass::kBulk).max_retain_seconds, 120u);
}

TEST(Retention, ByEvictionPriorityOrder) {
  auto order = RetentionPolicies::default_tactical().by_eviction_priority();
  ASSERT_EQ(order.size(), 5u);
  EXPECT_EQ(order[0].qos_class, QosClass::kBulk);
  EXPECT_EQ(order[4].qos_class, QosClass::kCritical);
}

TEST(Retention, EvictionCandidateClasses) {
  RetentionPolicies r;
  EXPECT_TRUE(r.eviction_candidates(0.5).empty());
  EXPECT_EQ(r.eviction_candidates(0.70), std::vector<QosClass>{QosClass::kBulk});
  EXPECT_EQ(r.eviction_candidates(0.80), (std::vector<QosClass>{QosClass::kBulk, QosClass::kLow}));
  EXPECT_EQ(r.eviction_candidates(0.90),
            (std::vector<QosClass>{QosClass::kBulk, QosClass::kLow, QosClass::kNormal}));
  // Above 0.9 the probe age is min + 1, and High goes at >= 0.95.
  EXPECT_EQ(
      r.eviction_candidates(0.96),
      (std::vector<QosClass>{QosClass::kBulk, QosClass::kLow, QosClass::kNormal, QosClass::kHigh}));
}

}  // namespace
}  // namespace peat::qos
