#include "peat/qos/bandwidth.hpp"

#include <gtest/gtest.h>

namespace peat::qos {
namespace {

using std::chrono::milliseconds;
const Instant kT0 = Instant{} + std::chrono::hours(1);

TEST(Bandwidth, DefaultTableOnOneMbps) {
  BandwidthAllocation a = BandwidthAllocation::default_tactical(kT0);
  EXPECT_EQ(a.total_bandwidth_bps(), 1'000'000u);
  EXPECT_EQ(a.quota(QosClass::kCritical).min_guaranteed_bps, 200'000u);
  EXPECT_EQ(a.quota(QosClass::kCritical).max_burst_bps, 800'000u);
  EXPECT_TRUE(a.quota(QosClass::kCritical).preemption_enabled);
  EXPECT_EQ(a.quota(QosClass::kHigh).min_guaranteed_bps, 300'000u);
  EXPECT_EQ(a.quota(QosClass::kHigh).max_burst_bps, 600'000u);
  EXPECT_TRUE(a.quota(QosClass::kHigh).preemption_enabled);
  EXPECT_EQ(a.quota(QosClass::kNormal).max_burst_bps, 400'000u);
  EXPECT_FALSE(a.quota(QosClass::kNormal).preemption_enabled);
  EXPECT_EQ(a.quota(QosClass::kLow).min_guaranteed_bps, 150'000u);
  EXPECT_EQ(a.quota(QosClass::kLow).max_burst_bps, 300'000u);
  EXPECT_EQ(a.quota(QosClass::kBulk).min_guaranteed_bps, 50'000u);
  EXPECT_EQ(a.quota(QosClass::kBulk).max_burst_bps, 200'000u);
  EXPECT_EQ(BandwidthAllocation::default_standard(kT0).total_bandwidth_bps(), 10'000'000u);
  EXPECT_EQ(BandwidthAllocation::default_high_bandwidth(kT0).total_bandwidth_bps(), 100'000'000u);
}

TEST(Bandwidth, ConfigValidate) {
  BandwidthConfig c = BandwidthConfig::default_tactical();
  EXPECT_TRUE(c.validate().ok());
  c.quotas[qos_index(QosClass::kBulk)].min_guaranteed_percent = 21;  // sum 101
  EXPECT_EQ(c.validate().error().code, "INVALID_BANDWIDTH_CONFIG");
  c = BandwidthConfig::default_tactical();
  c.quotas[qos_index(QosClass::kLow)].max_burst_percent = 10;  // below guaranteed 15
  EXPECT_FALSE(c.validate().ok());
  c = BandwidthConfig::default_tactical();
  c.quotas[qos_index(QosClass::kLow)].max_burst_percent = 101;
  EXPECT_FALSE(c.validate().ok());
  c.quotas[qos_index(QosClass::kLow)].max_burst_percent = 100;
  EXPECT_TRUE(c.validate().ok());
  EXPECT_TRUE(c.build(kT0).ok());
}

TEST(Bandwidth, ConfigValidateBoundaries) {
  BandwidthConfig c = BandwidthConfig::default_tactical();           // guaranteed sum 90
  c.quotas[qos_index(QosClass::kBulk)].min_guaranteed_percent = 15;  // sum exactly 100
  EXPECT_TRUE(c.validate().ok());
  c.quotas[qos_index(QosClass::kLow)].max_burst_percent = 15;  // burst == guaranteed
  EXPECT_TRUE(c.validate().ok());
  c.quotas[qos_index(QosClass::kLow)].max_burst_percent = 14;
  EXPECT_FALSE(c.validate().ok());
  EXPECT_FALSE(c.build(kT0).ok());
}

TEST(Bandwidth, ConfigJsonRoundTripAndErrors) {
  BandwidthConfig c = BandwidthConfig::default_standard();
  c.quotas[qos_index(QosClass::kBulk)].max_burst_percent = 25;
  auto back = BandwidthConfig::from_json(c.to_json());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->total_bandwidth_bps, 10'000'000u);
  EXPECT_EQ(back->quotas, c.quotas);
  EXPECT_FALSE(BandwidthConfig::from_json(nlohmann::json::array()).ok());
  EXPECT_FALSE(
      BandwidthConfig::from_json({{"quotas", {{"Urgent", nlohmann::json::object()}}}}).ok());
  EXPECT_FALSE(
      BandwidthConfig::from_json({{"quotas", {{"Bulk", {{"max_burst_percent", -1}}}}}}).ok());
  auto built = c.build(kT0);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->quota(QosClass::kBulk).max_burst_bps, 2'500'000u);
}

TEST(Bandwidth, QuotaCheckIsUsagePlusSizeWithinBurst) {
  BandwidthAllocation a(1'000'000, kT0);
  // Bulk burst 200 kbit/s = 25 000 bytes.
  auto p1 = a.acquire(QosClass::kBulk, 20'000, kT0);
  ASSERT_TRUE(p1);
  EXPECT_EQ(a.usage_bps(QosClass::kBulk, kT0), 160'000u);
  EXPECT_TRUE(a.can_transmit(QosClass::kBulk, 5'000, kT0));   // 160k + 40k = 200k
  EXPECT_FALSE(a.can_transmit(QosClass::kBulk, 5'001, kT0));  // one byte over
  EXPECT_FALSE(a.acquire(QosClass::kBulk, 6'000, kT0));
  // Other classes have their own quota.
  EXPECT_TRUE(a.acquire(QosClass::kCritical, 6'000, kT0));
}

TEST(Bandwidth, UsageDecaysSoABlockedClassRecovers) {
  BandwidthAllocation a(1'000'000, kT0);
  ASSERT_TRUE(a.acquire(QosClass::kBulk, 25'000, kT0));
  EXPECT_FALSE(a.acquire(QosClass::kBulk, 1'000, kT0 + milliseconds(500)));
  // In the next window the previous second counts with a falling weight.
  EXPECT_EQ(a.usage_bps(QosClass::kBulk, kT0 + milliseconds(1500)), 100'000u);
  EXPECT_TRUE(a.acquire(QosClass::kBulk, 1'000, kT0 + milliseconds(1500)));
  // Two windows later nothing is left.
  EXPECT_EQ(a.usage_bps(QosClass::kBulk, kT0 + milliseconds(3000)), 0u);
}

TEST(Bandwidth, IdleClassMaySendOneOversizedMessage) {
  BandwidthAllocation a(1'000'000, kT0);
  // 100 kB is four times the Bulk burst (25 kB per second) but fits the 1 Mbit bucket.
  auto big = a.acquire(QosClass::kBulk, 100'000, kT0);
  ASSERT_TRUE(big);
  EXPECT_FALSE(a.acquire(QosClass::kBulk, 100, kT0 + milliseconds(10)));
}

TEST(Bandwidth, GlobalBucketInBits) {
  BandwidthAllocation a(1'000'000, kT0);  // bucket 1 Mbit
  EXPECT_EQ(a.available_bits(kT0), 1'000'000u);
  ASSERT_TRUE(a.acquire(QosClass::kCritical, 100'000, kT0));  // 800 kbit
  EXPECT_EQ(a.available_bits(kT0), 200'000u);
  EXPECT_NEAR(a.total_utilization(kT0), 0.8, 1e-9);
  // High's quota allows 30 kB but the bucket holds only 25 kB.
  EXPECT_FALSE(a.acquire(QosClass::kHigh, 30'000, kT0));
  EXPECT_EQ(a.usage_bps(QosClass::kHigh, kT0), 0u);  // a refused acquire records nothing
  // Continuous refill at link rate: 100 ms = 100 kbit.
  EXPECT_EQ(a.available_bits(kT0 + milliseconds(100)), 300'000u);
  EXPECT_TRUE(a.acquire(QosClass::kHigh, 30'000, kT0 + milliseconds(100)));
  // Refill stops at capacity.
  EXPECT_EQ(a.available_bits(kT0 + std::chrono::seconds(10)), 1'000'000u);
}

TEST(Bandwidth, FullBucketLetsALargerMessageThroughIntoDebt) {
  BandwidthAllocation a(100'000, kT0);                   // 100 kbit/s, bucket 100 kbit
  auto p = a.acquire(QosClass::kCritical, 50'000, kT0);  // 400 kbit, class idle, bucket full
  ASSERT_TRUE(p);
  EXPECT_EQ(a.available_bits(kT0), 0u);
  EXPECT_GT(a.total_utilization(kT0), 1.0);
  EXPECT_FALSE(a.acquire(QosClass::kHigh, 10, kT0 + std::chrono::seconds(2)));  // still in debt
  EXPECT_TRUE(a.acquire(QosClass::kHigh, 10, kT0 + std::chrono::seconds(4)));
}

TEST(Bandwidth, ZeroLinkSendsNothing) {
  BandwidthAllocation a(0, kT0);
  EXPECT_FALSE(a.acquire(QosClass::kCritical, 1, kT0));
}

TEST(Bandwidth, PermitsCountActive) {
  BandwidthAllocation a(1'000'000, kT0);
  {
    auto p1 = a.acquire(QosClass::kNormal, 100, kT0);
    auto p2 = a.acquire(QosClass::kNormal, 200, kT0);
    ASSERT_TRUE(p1 && p2);
    EXPECT_EQ(p2->size_bytes(), 200u);
    EXPECT_EQ(p2->qos_class(), QosClass::kNormal);
    EXPECT_EQ(a.active_permit_count(), 2u);
    BandwidthPermit moved = std::move(*p1);
    EXPECT_EQ(a.active_permit_count(), 2u);
  }
  EXPECT_EQ(a.active_permit_count(), 0u);
}

TEST(Bandwidth, PreemptLowerNeedsPreemptionAndLowerUsage) {
  BandwidthAllocation a(1'000'000, kT0);
  EXPECT_FALSE(a.preempt_lower(QosClass::kCritical, kT0));
  ASSERT_TRUE(a.acquire(QosClass::kLow, 1000, kT0));
  EXPECT_TRUE(a.preempt_lower(QosClass::kCritical, kT0));
  EXPECT_TRUE(a.preempt_lower(QosClass::kHigh, kT0));
  EXPECT_FALSE(a.preempt_lower(QosClass::kNormal, kT0));  // no preemption right
  EXPECT_FALSE(a.preempt_lower(QosClass::kLow, kT0));
  EXPECT_FALSE(a.preempt_lower(QosClass::kCritical, kT0 + std::chrono::seconds(3)));
}

TEST(Bandwidth, ClassUtilization) {
  BandwidthAllocation a(1'000'000, kT0);
  ASSERT_TRUE(a.acquire(QosClass::kNormal, 25'000, kT0));  // 200 kbit = guaranteed
  EXPECT_NEAR(a.class_utilization(QosClass::kNormal, kT0), 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(a.class_utilization(QosClass::kLow, kT0), 0.0);
}

}  // namespace
}  // namespace peat::qos
