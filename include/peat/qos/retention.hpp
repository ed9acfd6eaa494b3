// Retention policies per QoS class (spec 1.14): how long data is kept at least / at most, and at
// which storage pressure data between the two limits becomes evictable.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "peat/qos/qos_class.hpp"

namespace peat::qos {

inline constexpr std::uint64_t kRetainForever = std::numeric_limits<std::uint64_t>::max();

struct RetentionPolicy {
  QosClass qos_class = QosClass::kNormal;
  std::uint64_t min_retain_seconds = 0;
  std::uint64_t max_retain_seconds = kRetainForever;
  std::uint8_t eviction_priority = 3;  // 1..5, lower = evicted first
  bool compression_eligible = true;

  // Defaults: Critical 7 d/forever/5/no; High 24 h/7 d/4; Normal 1 h/24 h/3; Low 5 min/1 h/2;
  // Bulk 1 min/5 min/1 (all but Critical compressible).
  static RetentionPolicy for_qos_class(QosClass c);
  // eviction_priority is clamped to 1..5.
  static RetentionPolicy custom(QosClass c, std::uint64_t min_retain_seconds,
                                std::uint64_t max_retain_seconds, std::uint8_t eviction_priority,
                                bool compression_eligible);

  // age < min: keep; age > max: evict; otherwise keep while pressure is below the class's
  // level (Critical always, High 0.95, Normal 0.85, Low 0.75, Bulk 0.65).
  bool should_retain(std::uint64_t age_seconds, double pressure) const;
  bool should_evict(std::uint64_t age_seconds, double pressure) const {
    return !should_retain(age_seconds, pressure);
  }
  // Compressible and pressure strictly above 0.7.
  bool should_compress(double pressure) const { return compression_eligible && pressure > 0.7; }
  bool has_infinite_retention() const { return max_retain_seconds == kRetainForever; }
  bool operator==(const RetentionPolicy&) const = default;
};

// The pressure below which data between min and max retention is kept (> 1 for Critical).
double retain_below_pressure(QosClass c);

class RetentionPolicies {
 public:
  RetentionPolicies() : RetentionPolicies(default_tactical()) {}
  static RetentionPolicies default_tactical();
  // High 12 h/3 d, Normal 30 min/12 h, Low 2 min/30 min, Bulk 30 s/2 min; Critical unchanged.
  static RetentionPolicies storage_constrained();

  const RetentionPolicy& get(QosClass c) const { return policies_[qos_index(c)]; }
  // Replaces the policy of policy.qos_class.
  void set(const RetentionPolicy& policy) { policies_[qos_index(policy.qos_class)] = policy; }
  // Policies by ascending eviction priority (evicted first comes first); stable for ties.
  std::vector<RetentionPolicy> by_eviction_priority() const;
  // Bulk, Low, Normal, High (in that order) when should_evict(age*, pressure) with
  // age* = min + 1 if pressure > 0.9, else max / 2.
  std::vector<QosClass> eviction_candidates(double pressure) const;

 private:
  explicit RetentionPolicies(std::array<RetentionPolicy, kQosClassCount> p) : policies_(p) {}
  std::array<RetentionPolicy, kQosClassCount> policies_;
};

}  // namespace peat::qos
