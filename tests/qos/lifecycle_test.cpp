#include "peat/qos/lifecycle.hpp"

#include <gtest/gtest.h>

namespace peat::qos {
namespace {

TEST(Lifecycle, ForQosClassTable) {
  auto c = LifecyclePolicy::for_qos_class(QosClass::kCritical);
  EXPECT_FALSE(c.ttl_seconds);
  EXPECT_FALSE(c.soft_delete_after_seconds);
  EXPECT_FALSE(c.use_soft_delete);
  EXPECT_TRUE(c.has_infinite_retention());
  auto h = LifecyclePolicy::for_qos_class(QosClass::kHigh);
  EXPECT_EQ(h.ttl_seconds, 7u * 86400);
  EXPECT_EQ(h.soft_delete_after_seconds, 86400u);
  EXPECT_FALSE(h.use_soft_delete);
  auto n = LifecyclePolicy::for_qos_class(QosClass::kNormal);
  EXPECT_EQ(n.ttl_seconds, 86400u);
  EXPECT_EQ(n.soft_delete_after_seconds, 3600u);
  EXPECT_FALSE(n.use_soft_delete);
  auto l = LifecyclePolicy::for_qos_class(QosClass::kLow);
  EXPECT_EQ(l.ttl_seconds, 3600u);
  EXPECT_EQ(l.soft_delete_after_seconds, 300u);
  EXPECT_TRUE(l.use_soft_delete);
  auto b = LifecyclePolicy::for_qos_class(QosClass::kBulk);
  EXPECT_EQ(b.ttl_seconds, 300u);
  EXPECT_EQ(b.soft_delete_after_seconds, 60u);
  EXPECT_TRUE(b.use_soft_delete);
  EXPECT_FALSE(b.has_infinite_retention());
  for (QosClass k : kAllQosClasses) EXPECT_EQ(LifecyclePolicy::for_qos_class(k).qos_class(), k);
}

TEST(Lifecycle, CriticalNeverEvicted) {
  auto c = LifecyclePolicy::for_qos_class(QosClass::kCritical);
  EXPECT_FALSE(c.should_evict(UINT64_MAX, 1.0));
  c.ttl_seconds = 1;  // even with a TTL
  EXPECT_FALSE(c.should_evict(100, 1.0));
  EXPECT_EQ(make_lifecycle_decision(c, 100, 1.0), LifecycleDecision::kRetain);
}

TEST(Lifecycle, TtlIsStrictlyGreater) {
  auto n = LifecyclePolicy::for_qos_class(QosClass::kNormal);
  EXPECT_FALSE(n.should_evict(86400, 0.0));
  EXPECT_TRUE(n.should_evict(86401, 0.0));
  EXPECT_EQ(make_lifecycle_decision(n, 86400, 0.0), LifecycleDecision::kRetain);
  EXPECT_EQ(make_lifecycle_decision(n, 86401, 0.0), LifecycleDecision::kTtlExpired);
}

TEST(Lifecycle, PressureIsStrictlyAboveAndAgeAtLeastMinRetention) {
  struct Row {
    QosClass c;
    double level;
    std::uint64_t min;
  };
  for (Row r : {Row{QosClass::kHigh, 0.95, 86400}, Row{QosClass::kNormal, 0.85, 3600},
                Row{QosClass::kLow, 0.75, 300}, Row{QosClass::kBulk, 0.65, 60}}) {
    auto p = LifecyclePolicy::for_qos_class(r.c);
    EXPECT_FALSE(p.should_evict(r.min, r.level)) << to_string(r.c);         // not above
    EXPECT_TRUE(p.should_evict(r.min, r.level + 0.001)) << to_string(r.c);  // age == min
    EXPECT_FALSE(p.should_evict(r.min - 1, 1.0)) << to_string(r.c);         // too young
    EXPECT_TRUE(p.should_retain(r.min - 1, 1.0));
  }
}

TEST(Lifecycle, SoftDeleteStrictlyAfterThreshold) {
  auto l = LifecyclePolicy::for_qos_class(QosClass::kLow);
  EXPECT_FALSE(l.should_soft_delete(300));
  EXPECT_TRUE(l.should_soft_delete(301));
  auto n = LifecyclePolicy::for_qos_class(QosClass::kNormal);  // threshold set, soft delete off
  EXPECT_FALSE(n.should_soft_delete(1'000'000));
}

TEST(Lifecycle, DecisionOrder) {
  auto b = LifecyclePolicy::for_qos_class(QosClass::kBulk);
  EXPECT_EQ(make_lifecycle_decision(b, 400, 0.5), LifecycleDecision::kTtlExpired);
  EXPECT_EQ(make_lifecycle_decision(b, 61, 0.99), LifecycleDecision::kSoftDelete);
  EXPECT_EQ(make_lifecycle_decision(b, 60, 0.66), LifecycleDecision::kEvict);
  EXPECT_EQ(make_lifecycle_decision(b, 60, 0.65), LifecycleDecision::kRetain);
  EXPECT_EQ(make_lifecycle_decision(b, 59, 1.0), LifecycleDecision::kRetain);
  auto l = LifecyclePolicy::for_qos_class(QosClass::kLow);
  EXPECT_EQ(make_lifecycle_decision(l, 400, 0.5), LifecycleDecision::kSoftDelete);
  EXPECT_EQ(to_string(LifecycleDecision::kSoftDelete), "SOFT_DELETE");
  EXPECT_EQ(to_string(LifecycleDecision::kTtlExpired), "TTL_EXPIRED");
}

TEST(Lifecycle, DecisionHelpers) {
  EXPECT_TRUE(removes_data(LifecycleDecision::kEvict));
  EXPECT_TRUE(removes_data(LifecycleDecision::kTtlExpired));
  EXPECT_FALSE(removes_data(LifecycleDecision::kSoftDelete));
  EXPECT_FALSE(removes_data(LifecycleDecision::kRetain));
  EXPECT_TRUE(retains_data(LifecycleDecision::kRetain));
  EXPECT_FALSE(retains_data(LifecycleDecision::kEvict));
}

TEST(Lifecycle, FromQosAndTtl) {
  auto low = LifecyclePolicy::from_qos_and_ttl(QosPolicy::low(), std::chrono::seconds(600));
  EXPECT_EQ(low.ttl_seconds, 86400u);  // the QoS policy's TTL
  EXPECT_TRUE(low.use_soft_delete);
  EXPECT_EQ(low.soft_delete_after_seconds, 600u);
  auto high = LifecyclePolicy::from_qos_and_ttl(QosPolicy::high(), std::chrono::seconds(600));
  EXPECT_FALSE(high.use_soft_delete);
  EXPECT_FALSE(high.soft_delete_after_seconds);
}

TEST(Lifecycle, PoliciesFromPositionTtl) {
  LifecyclePolicies d;
  for (QosClass k : kAllQosClasses) EXPECT_EQ(d.get(k).qos_class(), k);
  auto p = LifecyclePolicies::from_position_ttl(std::chrono::seconds(600));
  EXPECT_EQ(p.get(QosClass::kLow).ttl_seconds, 600u);
  EXPECT_EQ(p.get(QosClass::kLow).soft_delete_after_seconds, 300u);
  EXPECT_TRUE(p.get(QosClass::kLow).use_soft_delete);
  EXPECT_FALSE(p.get(QosClass::kCritical).ttl_seconds);
  EXPECT_EQ(p.get(QosClass::kBulk).ttl_seconds, 300u);
}

}  // namespace
}  // namespace peat::qos
