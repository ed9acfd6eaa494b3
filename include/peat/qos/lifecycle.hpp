// Lifecycle (spec 1.16): one decision per document from its QoS class, TTL, age and the storage
// pressure — retain, soft delete, evict locally, or remove because the TTL expired.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "peat/qos/qos_policy.hpp"

namespace peat::qos {

enum class LifecycleDecision : std::uint8_t { kRetain, kSoftDelete, kEvict, kTtlExpired };

// RETAIN, SOFT_DELETE, EVICT, TTL_EXPIRED.
std::string_view to_string(LifecycleDecision d);
inline bool removes_data(LifecycleDecision d) {
  return d == LifecycleDecision::kEvict || d == LifecycleDecision::kTtlExpired;
}
inline bool retains_data(LifecycleDecision d) {
  return d == LifecycleDecision::kRetain;
}

struct LifecyclePolicy {
  QosPolicy qos_policy;
  std::optional<std::uint64_t> ttl_seconds;
  std::optional<std::uint64_t> soft_delete_after_seconds;
  bool use_soft_delete = false;

  // Critical: no TTL, no soft delete. High 7 d / 24 h; Normal 24 h / 1 h; Low 1 h / 5 min with
  // soft delete; Bulk 5 min / 1 min with soft delete.
  static LifecyclePolicy for_qos_class(QosClass c);
  // TTL from the QoS policy; Low and Bulk soft-delete after the position TTL (the caller passes
  // store::TtlConfig::position_ttl).
  static LifecyclePolicy from_qos_and_ttl(const QosPolicy& policy,
                                          std::chrono::seconds position_ttl);

  QosClass qos_class() const { return qos_policy.base_class; }
  // Critical never; age > TTL; or pressure strictly above the class level (High 0.95, Normal
  // 0.85, Low 0.75, Bulk 0.65) with age >= the class's default minimum retention.
  bool should_evict(std::uint64_t age_seconds, double pressure) const;
  bool should_retain(std::uint64_t age_seconds, double pressure) const {
    return !should_evict(age_seconds, pressure);
  }
  // use_soft_delete and age strictly above the soft-delete threshold.
  bool should_soft_delete(std::uint64_t age_seconds) const;
  bool has_infinite_retention() const {
    return qos_policy.base_class == QosClass::kCritical || !ttl_seconds;
  }
};

// TtlExpired (non-Critical, age > TTL), then SoftDelete, then Evict, else Retain.
LifecycleDecision make_lifecycle_decision(const LifecyclePolicy& policy, std::uint64_t age_seconds,
                                          double pressure);

// One policy per class (contact reports Critical, media High, health status Normal, positions
// Low, bulk Bulk in the Rust naming).
class LifecyclePolicies {
 public:
  LifecyclePolicies();  // for_qos_class of each class
  // Positions (Low) take the position TTL and soft-delete after half of it; the others keep
  // the for_qos_class values.
  static LifecyclePolicies from_position_ttl(std::chrono::seconds position_ttl);

  const LifecyclePolicy& get(QosClass c) const { return policies_[qos_index(c)]; }
  void set(QosClass c, LifecyclePolicy p) { policies_[qos_index(c)] = std::move(p); }

 private:
  LifecyclePolicy policies_[kQosClassCount];
};

}  // namespace peat::qos
