#include "peat/topology/partition.hpp"

#include <gtest/gtest.h>

using namespace peat::topology;
using namespace std::chrono_literals;
using peat::Instant;
using peat::beacon::GeographicBeacon;
using peat::beacon::HierarchyLevel;

namespace {
const Instant t0 = Instant{} + 1h;

std::map<std::string, GeographicBeacon> beacons(HierarchyLevel level, bool operational = true) {
  auto b = GeographicBeacon::make("p", {}, level, 0);
  b.operational = operational;
  return {{"p", b}};
}
}  // namespace

TEST(PartitionConfigTest, BackoffSchedule) {
  PartitionConfig c;
  EXPECT_EQ(c.backoff(0), 2s);
  EXPECT_EQ(c.backoff(1), 4s);
  EXPECT_EQ(c.backoff(3), 16s);
  EXPECT_EQ(c.backoff(4), 30s);
  EXPECT_EQ(c.backoff(9), 30s);
}

TEST(PartitionDetectorTest, DetectsAfterThreeSpacedAttempts) {
  PartitionDetector d(HierarchyLevel::kSquad);
  AutonomousOperationHandler h;
  d.set_handler(&h);
  std::optional<PartitionEvent> detected;
  // Frequent checks: attempts at 0, 4 and 12 s.
  for (int s = 0; s <= 20 && !detected; ++s) {
    detected = d.check_partition({}, t0 + std::chrono::seconds(s));
    if (detected) {
      EXPECT_EQ(s, 12);
    }
  }
  ASSERT_TRUE(detected.has_value());
  auto ev = std::get<PartitionDetected>(*detected);
  EXPECT_EQ(ev.attempts, 3u);
  EXPECT_EQ(ev.detection_duration, 12s);
  EXPECT_TRUE(d.is_partitioned());
  EXPECT_TRUE(h.is_autonomous());
  EXPECT_EQ(std::get<AutonomousActive>(h.state()).detection_attempts, 3u);
}

TEST(PartitionDetectorTest, IgnoresSameLevelAndNonOperationalBeacons) {
  PartitionDetector d(HierarchyLevel::kSquad);
  EXPECT_FALSE(d.check_partition(beacons(HierarchyLevel::kSquad), t0).has_value());
  EXPECT_EQ(d.detection_attempts(), 1u);
  EXPECT_FALSE(d.check_partition(beacons(HierarchyLevel::kPlatoon, false), t0 + 4s));
  EXPECT_EQ(d.detection_attempts(), 2u);
  // Connected resets the counters without an event.
  EXPECT_FALSE(d.check_partition(beacons(HierarchyLevel::kPlatoon), t0 + 5s));
  EXPECT_EQ(d.detection_attempts(), 0u);
}

TEST(PartitionDetectorTest, HealReportsDurationAndNormalState) {
  PartitionDetector d(HierarchyLevel::kPlatform);
  AutonomousOperationHandler h;
  d.set_handler(&h);
  (void)d.check(false, 0, t0);
  (void)d.check(false, 0, t0 + 4s);
  ASSERT_TRUE(d.check(false, 0, t0 + 12s).has_value());
  EXPECT_FALSE(d.check(false, 0, t0 + 13s).has_value());  // no duplicate detection
  auto healed = d.check(true, 5, t0 + 42s);
  ASSERT_TRUE(healed.has_value());
  EXPECT_EQ(std::get<PartitionHealed>(*healed).partition_duration, 30s);
  EXPECT_EQ(std::get<PartitionHealed>(*healed).visible_beacons, 5u);
  EXPECT_FALSE(h.is_autonomous());
  EXPECT_FALSE(d.is_partitioned());
}

TEST(AutonomousHandlerTest, DuplicatesIgnored) {
  AutonomousOperationHandler h;
  h.on_partition_healed({}, t0);
  EXPECT_EQ(h.ignored_duplicates(), 1u);
  h.on_partition_detected({3, 12s}, t0);
  h.on_partition_detected({3, 12s}, t0 + 1s);
  EXPECT_EQ(h.ignored_duplicates(), 2u);
  EXPECT_EQ(std::get<AutonomousActive>(h.state()).entered_at, t0);
}
