#include "peat/qos/qos_policy.hpp"

#include <gtest/gtest.h>

namespace peat::qos {
namespace {

TEST(QosPolicy, PresetsMatchTable) {
  QosPolicy c = QosPolicy::critical();
  EXPECT_EQ(c.base_class, QosClass::kCritical);
  EXPECT_EQ(c.max_latency_ms, 500u);
  EXPECT_EQ(c.max_size_bytes, 64u * 1024);
  EXPECT_FALSE(c.ttl_seconds);
  EXPECT_EQ(c.retention_priority, 5);
  EXPECT_FALSE(c.preemptable);

  QosPolicy h = QosPolicy::high();
  EXPECT_EQ(h.max_latency_ms, 5000u);
  EXPECT_EQ(h.max_size_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(h.ttl_seconds, 3600u);
  EXPECT_EQ(h.retention_priority, 4);
  EXPECT_TRUE(h.preemptable);

  QosPolicy n = QosPolicy::normal();
  EXPECT_EQ(n.base_class, QosClass::kNormal);
  EXPECT_EQ(n.max_latency_ms, 60000u);
  EXPECT_FALSE(n.max_size_bytes);
  EXPECT_FALSE(n.ttl_seconds);
  EXPECT_EQ(n.retention_priority, 3);

  QosPolicy l = QosPolicy::low();
  EXPECT_EQ(l.max_latency_ms, 300000u);
  EXPECT_EQ(l.ttl_seconds, 86400u);
  EXPECT_EQ(l.retention_priority, 2);

  QosPolicy b = QosPolicy::bulk();
  EXPECT_FALSE(b.max_latency_ms);
  EXPECT_FALSE(b.max_size_bytes);
  EXPECT_EQ(b.ttl_seconds, 604800u);
  EXPECT_EQ(b.retention_priority, 1);
  EXPECT_TRUE(b.preemptable);

  for (QosClass k : kAllQosClasses) EXPECT_EQ(QosPolicy::for_class(k).base_class, k);
  EXPECT_EQ(QosPolicy{}, QosPolicy::normal());
}

TEST(QosPolicy, ExceedsIsStrictlyGreater) {
  QosPolicy c = QosPolicy::critical();
  EXPECT_FALSE(c.exceeds_latency(500));
  EXPECT_TRUE(c.exceeds_latency(501));
  EXPECT_FALSE(c.exceeds_size(65536));
  EXPECT_TRUE(c.exceeds_size(65537));
}

TEST(QosPolicy, NoLimitNeverExceeds) {
  QosPolicy b = QosPolicy::bulk();
  EXPECT_FALSE(b.exceeds_latency(UINT64_MAX));
  EXPECT_FALSE(b.exceeds_size(UINT64_MAX));
}

}  // namespace
}  // namespace peat::qos
