#include "peat/qos/lifecycle.hpp"

#include "peat/qos/retention.hpp"

namespace peat::qos {

std::string_view to_string(LifecycleDecision d) {
  switch (d) {
    case LifecycleDecision::kRetain:
      return "RETAIN";
    case LifecycleDecision::kSoftDelete:
      return "SOFT_DELETE";
    case LifecycleDecision::kEvict:
      return "EVICT";
    case LifecycleDecision::kTtlExpired:
      return "TTL_EXPIRED";
  }
  return "RETAIN";
}

LifecyclePolicy LifecyclePolicy::for_qos_class(QosClass c) {
  constexpr std::uint64_t kHour = 3600;
  LifecyclePolicy p;
  p.qos_policy = QosPolicy::for_class(c);
  switch (c) {
    case QosClass::kCritical:
      break;
    case QosClass::kHigh:
      p.ttl_seconds = 7 * 24 * kHour;
      p.soft_delete_after_seconds = 24 * kHour;
      break;
    case QosClass::kNormal:
      p.ttl_seconds = 24 * kHour;
      p.soft_delete_after_seconds = kHour;
      break;
    case QosClass::kLow:
      p.ttl_seconds = kHour;
      p.soft_delete_after_seconds = 300;
      p.use_soft_delete = true;
      break;
    case QosClass::kBulk:
      p.ttl_seconds = 300;
      p.soft_delete_after_seconds = 60;
      p.use_soft_delete = true;
      break;
  }
  return p;
}

LifecyclePolicy LifecyclePolicy::from_qos_and_ttl(const QosPolicy& policy,
                                                  std::chrono::seconds position_ttl) {
  LifecyclePolicy p;
  p.qos_policy = policy;
  p.ttl_seconds = policy.ttl_seconds;
  p.use_soft_delete = policy.base_class == QosClass::kLow || policy.base_class == QosClass::kBulk;
  if (p.use_soft_delete) {
    p.soft_delete_after_seconds = static_cast<std::uint64_t>(position_ttl.count());
  }
  return p;
}

bool LifecyclePolicy::should_evict(std::uint64_t age_seconds, double pressure) const {
  QosClass c = qos_policy.base_class;
  if (c == QosClass::kCritical) return false;
  if (ttl_seconds && age_seconds > *ttl_seconds) return true;
  return pressure > retain_below_pressure(c) &&
         age_seconds >= RetentionPolicy::for_qos_class(c).min_retain_seconds;
}

bool LifecyclePolicy::should_soft_delete(std::uint64_t age_seconds) const {
  return use_soft_delete && soft_delete_after_seconds && age_seconds > *soft_delete_after_seconds;
}

LifecycleDecision make_lifecycle_decision(const LifecyclePolicy& policy, std::uint64_t age_seconds,
                                          double pressure) {
  if (policy.ttl_seconds && age_seconds > *policy.ttl_seconds &&
      policy.qos_class() != QosClass::kCritical) {
    return LifecycleDecision::kTtlExpired;
  }
  if (policy.should_soft_delete(age_seconds)) return LifecycleDecision::kSoftDelete;
  if (policy.should_evict(age_seconds, pressure)) return LifecycleDecision::kEvict;
  return LifecycleDecision::kRetain;
}

LifecyclePolicies::LifecyclePolicies() {
  for (QosClass c : kAllQosClasses) policies_[qos_index(c)] = LifecyclePolicy::for_qos_class(c);
}

LifecyclePolicies LifecyclePolicies::from_position_ttl(std::chrono::seconds position_ttl) {
  LifecyclePolicies p;
  LifecyclePolicy pos = LifecyclePolicy::for_qos_class(QosClass::kLow);
  auto secs = static_cast<std::uint64_t>(position_ttl.count());
  pos.ttl_seconds = secs;
  pos.soft_delete_after_seconds = secs / 2;
  pos.use_soft_delete = true;
  p.set(QosClass::kLow, pos);
  return p;
}

}  // namespace peat::qos
