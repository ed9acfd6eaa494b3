#include "peat/qos/preemption.hpp"

#include <gtest/gtest.h>

namespace peat::qos {
namespace {

const Instant kT0 = Instant{} + std::chrono::hours(1);

TEST(Preemption, TransferProgress) {
  ActiveTransfer t;
  t.bytes_total = 1000;
  EXPECT_DOUBLE_EQ(t.progress(), 0.0);
  t.bytes_sent = 500;
  EXPECT_DOUBLE_EQ(t.progress(), 0.5);
  EXPECT_EQ(t.bytes_remaining(), 500u);
  t.bytes_sent = 1200;
  EXPECT_TRUE(t.is_complete());
  EXPECT_EQ(t.bytes_remaining(), 0u);
  ActiveTransfer empty;
  EXPECT_DOUBLE_EQ(empty.progress(), 1.0);
}

TEST(Preemption, Eligibility) {
  ActiveTransfer low;
  low.qos_class = QosClass::kLow;
  EXPECT_TRUE(low.can_be_preempted_by(QosClass::kCritical));
  EXPECT_FALSE(low.can_be_preempted_by(QosClass::kLow));
  EXPECT_FALSE(low.can_be_preempted_by(QosClass::kBulk));
  low.can_pause = false;
  EXPECT_FALSE(low.can_be_preempted_by(QosClass::kCritical));
}

TEST(Preemption, ShouldPreemptOnlyCriticalOrHigh) {
  PreemptionController pc;
  EXPECT_FALSE(pc.should_preempt(QosClass::kCritical));
  pc.register_transfer(QosClass::kBulk, 1000, true, kT0);
  EXPECT_TRUE(pc.should_preempt(QosClass::kCritical));
  EXPECT_TRUE(pc.should_preempt(QosClass::kHigh));
  EXPECT_FALSE(pc.should_preempt(QosClass::kNormal));  // can_preempt, but not allowed to
  EXPECT_FALSE(pc.should_preempt(QosClass::kBulk));
}

TEST(Preemption, PauseResumeAndCounts) {
  PreemptionController pc;
  TransferId low = pc.register_transfer(QosClass::kLow, 1000, true, kT0);
  TransferId bulk = pc.register_transfer(QosClass::kBulk, 1000, true, kT0);
  pc.register_transfer(QosClass::kCritical, 1000, true, kT0);
  pc.register_transfer(QosClass::kBulk, 1000, false, kT0);  // not pausable
  EXPECT_NE(low, bulk);
  EXPECT_TRUE(pc.pause_transfers_below(QosClass::kNormal, kT0).empty());  // Normal may not
  auto paused = pc.pause_transfers_below(QosClass::kCritical, kT0);
  EXPECT_EQ(paused, (std::vector<TransferId>{low, bulk}));
  EXPECT_EQ(pc.paused_count(), 2u);
  EXPECT_EQ(pc.preemption_count(), 1u);
  EXPECT_EQ(pc.get_transfer(low)->paused_at, kT0);
  EXPECT_FALSE(pc.should_preempt(QosClass::kCritical));  // the pausable ones are paused
  // Pausing again pauses nothing new: no double counting, no extra event.
  EXPECT_TRUE(pc.pause_transfers_below(QosClass::kCritical, kT0).empty());
  EXPECT_EQ(pc.paused_count(), 2u);
  EXPECT_EQ(pc.preemption_count(), 1u);
  EXPECT_EQ(pc.resume_transfers({low, 999}), 1u);
  EXPECT_EQ(pc.paused_count(), 1u);
  EXPECT_EQ(pc.resume_all(), 1u);
  EXPECT_EQ(pc.paused_count(), 0u);
  EXPECT_FALSE(pc.get_transfer(low)->paused_at);
}

TEST(Preemption, BandwidthBelowCleanupAndStats) {
  PreemptionController pc;
  TransferId n = pc.register_transfer(QosClass::kNormal, 1000, true, kT0);
  TransferId b = pc.register_transfer(QosClass::kBulk, 500, true, kT0);
  pc.register_transfer(QosClass::kCritical, 700, true, kT0);
  EXPECT_TRUE(pc.record_sent(n, 400));
  EXPECT_FALSE(pc.record_sent(12345, 1));
  EXPECT_EQ(pc.bandwidth_used_below(QosClass::kHigh), 600u + 500u);
  EXPECT_EQ(pc.bandwidth_used_below(QosClass::kNormal), 500u);
  pc.pause_transfers_below(QosClass::kHigh, kT0);
  EXPECT_EQ(pc.bandwidth_used_below(QosClass::kHigh), 0u);
  EXPECT_EQ(pc.transfers_by_class(QosClass::kBulk).size(), 1u);
  EXPECT_EQ(pc.preemptable_transfers(QosClass::kCritical).size(), 2u);
  pc.record_sent(b, 500);  // a paused transfer that completes
  EXPECT_EQ(pc.cleanup_completed(), 1u);
  PreemptionStats s = pc.stats();
  EXPECT_EQ(s.active_transfers, 2u);
  EXPECT_EQ(s.paused_transfers, 1u);  // recomputed: the removed one is not counted
  EXPECT_EQ(s.preemption_events, 1u);
  EXPECT_EQ(s.transfers_by_class[qos_index(QosClass::kNormal)], 1u);
  EXPECT_TRUE(pc.unregister_transfer(n));
  EXPECT_FALSE(pc.unregister_transfer(n));
  EXPECT_EQ(pc.active_count(), 1u);
}

}  // namespace
}  // namespace peat::qos
