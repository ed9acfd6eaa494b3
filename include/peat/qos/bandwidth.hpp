// Bandwidth allocation per QoS class (spec 1.17), sans-I/O: every call takes `now`.
// Each class has a guaranteed and a burst share of the link and a 1-second sliding usage
// estimate; a global token bucket in bits (capacity = one second of link, continuous refill)
// caps the sum. Not thread-safe: use it from one thread (the event loop's); permits may be
// released on any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "peat/common/clock.hpp"
#include "peat/common/result.hpp"
#include "peat/qos/qos_class.hpp"

namespace peat::qos {

struct QuotaConfig {
  std::uint8_t min_guaranteed_percent = 0;
  std::uint8_t max_burst_percent = 0;
  bool preemption_enabled = false;
  bool operator==(const QuotaConfig&) const = default;
};

struct BandwidthQuota {
  std::uint64_t min_guaranteed_bps = 0;
  std::uint64_t max_burst_bps = 0;
  bool preemption_enabled = false;
};

class BandwidthAllocation;

struct BandwidthConfig {
  std::uint64_t total_bandwidth_bps = 1'000'000;
  // Critical 20/80/preempt, High 30/60/preempt, Normal 20/40, Low 15/30, Bulk 5/20.
  std::array<QuotaConfig, kQosClassCount> quotas = default_quotas();

  static std::array<QuotaConfig, kQosClassCount> default_quotas();
  static BandwidthConfig default_tactical() { return {1'000'000, default_quotas()}; }
  static BandwidthConfig default_standard() { return {10'000'000, default_quotas()}; }
  static BandwidthConfig default_high_bandwidth() { return {100'000'000, default_quotas()}; }

  // INVALID_BANDWIDTH_CONFIG unless sum(guaranteed) <= 100 and guaranteed <= burst <= 100.
  Status validate() const;
  Result<BandwidthAllocation> build(Instant now) const;

  // {"total_bandwidth_bps": n, "quotas": {"Critical": {"min_guaranteed_percent", ...}, ...}}
  nlohmann::json to_json() const;
  // Missing classes keep their defaults; bad types or class names give INVALID_BANDWIDTH_CONFIG.
  static Result<BandwidthConfig> from_json(const nlohmann::json& j);
};

// Held while transmitting; releasing it (destruction) decrements the active-permit count.
class BandwidthPermit {
 public:
  BandwidthPermit(BandwidthPermit&& o) noexcept
      : size_(o.size_), class_(o.class_), active_(std::move(o.active_)) {}
  BandwidthPermit& operator=(BandwidthPermit&& o) noexcept;
  BandwidthPermit(const BandwidthPermit&) = delete;
  BandwidthPermit& operator=(const BandwidthPermit&) = delete;
  ~BandwidthPermit() { release(); }

  std::uint64_t size_bytes() const { return size_; }
  QosClass qos_class() const { return class_; }

 private:
  friend class BandwidthAllocation;
  BandwidthPermit(std::uint64_t size, QosClass c, std::shared_ptr<std::atomic<std::uint64_t>> a)
      : size_(size), class_(c), active_(std::move(a)) {}
  void release();
  std::uint64_t size_;
  QosClass class_;
  std::shared_ptr<std::atomic<std::uint64_t>> active_;
};

class BandwidthAllocation {
 public:
  // The default table (BandwidthConfig::default_quotas) on a link of total_bps.
  BandwidthAllocation(std::uint64_t total_bps, Instant now);
  BandwidthAllocation(std::uint64_t total_bps, const std::array<BandwidthQuota, kQosClassCount>& q,
                      Instant now);
  static BandwidthAllocation default_tactical(Instant now) { return {1'000'000, now}; }
  static BandwidthAllocation default_standard(Instant now) { return {10'000'000, now}; }
  static BandwidthAllocation default_high_bandwidth(Instant now) { return {100'000'000, now}; }

  // Class quota check: usage(now) + 8 * size <= burst, or the class has no recent usage (so a
  // message larger than one second of burst still goes out, alone).
  bool can_transmit(QosClass c, std::uint64_t size_bytes, Instant now) const;
  // Quota check, then the global bucket (8 * size bits; a full bucket lets a larger message
  // through and goes into debt), then records the usage. nullopt when refused (nothing counted).
  std::optional<BandwidthPermit> acquire(QosClass c, std::uint64_t size_bytes, Instant now);
  // The class may preempt and some lower class shows usage.
  bool preempt_lower(QosClass c, Instant now) const;

  // Bits per second used by the class over the last second (sliding estimate).
  std::uint64_t usage_bps(QosClass c, Instant now) const;
  // usage / guaranteed (0 when nothing is guaranteed).
  double class_utilization(QosClass c, Instant now) const;
  // 1 - tokens / capacity (above 1 while in debt).
  double total_utilization(Instant now);
  // Tokens in the bucket, in bits (0 while in debt).
  std::uint64_t available_bits(Instant now);
  std::uint64_t active_permit_count() const { return active_->load(); }
  const BandwidthQuota& quota(QosClass c) const { return quotas_[qos_index(c)]; }
  std::uint64_t total_bandwidth_bps() const { return total_bps_; }

 private:
  struct Usage {
    Instant window_start{};
    std::uint64_t current_bytes = 0;
    std::uint64_t previous_bytes = 0;
  };
  static Usage advanced(const Usage& u, Instant now);
  void refill(Instant now);

  std::uint64_t total_bps_;
  std::array<BandwidthQuota, kQosClassCount> quotas_;
  std::array<Usage, kQosClassCount> usage_;
  double tokens_;
  Instant last_refill_;
  std::shared_ptr<std::atomic<std::uint64_t>> active_;
};

}  // namespace peat::qos
