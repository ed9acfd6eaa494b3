#include "peat/qos/qos_class.hpp"

#include <gtest/gtest.h>

namespace peat::qos {
namespace {

TEST(QosClass, IndexAndPriority) {
  EXPECT_EQ(qos_index(QosClass::kCritical), 0u);
  EXPECT_EQ(qos_index(QosClass::kBulk), 4u);
  EXPECT_EQ(qos_priority(QosClass::kNormal), 3);
  for (std::size_t i = 0; i < kQosClassCount; ++i) EXPECT_EQ(qos_index(kAllQosClasses[i]), i);
}

TEST(QosClass, ToStringAndDisplay) {
  EXPECT_EQ(to_string(QosClass::kCritical), "Critical");
  EXPECT_EQ(to_string(QosClass::kHigh), "High");
  EXPECT_EQ(to_string(QosClass::kNormal), "Normal");
  EXPECT_EQ(to_string(QosClass::kLow), "Low");
  EXPECT_EQ(to_string(QosClass::kBulk), "Bulk");
  EXPECT_EQ(display(QosClass::kCritical), "P1:Critical");
  EXPECT_EQ(display(QosClass::kBulk), "P5:Bulk");
}

TEST(QosClass, ParseNamesCaseInsensitiveAndDefaultAlias) {
  for (QosClass c : kAllQosClasses) EXPECT_EQ(*parse_qos_class(to_string(c)), c);
  EXPECT_EQ(*parse_qos_class("critical"), QosClass::kCritical);
  EXPECT_EQ(*parse_qos_class("BULK"), QosClass::kBulk);
  EXPECT_EQ(*parse_qos_class("default"), QosClass::kNormal);
  EXPECT_EQ(*parse_qos_class("Default"), QosClass::kNormal);
}

TEST(QosClass, ParseRejectsUnknown) {
  for (std::string_view bad : {"", "P1", "urgent", "Critical ", "norma"}) {
    auto r = parse_qos_class(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "INVALID_QOS_CLASS");
  }
}

TEST(QosClass, PreemptionIsStrictlyLowerNumber) {
  EXPECT_TRUE(can_preempt(QosClass::kCritical, QosClass::kHigh));
  EXPECT_TRUE(can_preempt(QosClass::kLow, QosClass::kBulk));
  EXPECT_FALSE(can_preempt(QosClass::kNormal, QosClass::kNormal));
  EXPECT_FALSE(can_preempt(QosClass::kBulk, QosClass::kCritical));
  EXPECT_TRUE(higher_priority(QosClass::kCritical, QosClass::kBulk));
}

TEST(QosClass, BandwidthPercentSumsTo100) {
  EXPECT_EQ(bandwidth_allocation_percent(QosClass::kCritical), 40u);
  EXPECT_EQ(bandwidth_allocation_percent(QosClass::kHigh), 30u);
  EXPECT_EQ(bandwidth_allocation_percent(QosClass::kNormal), 20u);
  EXPECT_EQ(bandwidth_allocation_percent(QosClass::kLow), 8u);
  EXPECT_EQ(bandwidth_allocation_percent(QosClass::kBulk), 2u);
  std::uint32_t sum = 0;
  for (QosClass c : kAllQosClasses) sum += bandwidth_allocation_percent(c);
  EXPECT_EQ(sum, 100u);
}

}  // namespace
}  // namespace peat::qos
