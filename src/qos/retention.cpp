#include "peat/qos/retention.hpp"

#include <algorithm>

namespace peat::qos {

namespace {
constexpr std::uint64_t kMinute = 60;
constexpr std::uint64_t kHour = 3600;
constexpr std::uint64_t kDay = 24 * kHour;
}  // namespace

RetentionPolicy RetentionPolicy::for_qos_class(QosClass c) {
  switch (c) {
    case QosClass::kCritical:
      return {c, 7 * kDay, kRetainForever, 5, false};
    case QosClass::kHigh:
      return {c, kDay, 7 * kDay, 4, true};
    case QosClass::kNormal:
      return {c, kHour, kDay, 3, true};
    case QosClass::kLow:
      return {c, 5 * kMinute, kHour, 2, true};
    case QosClass::kBulk:
      return {c, kMinute, 5 * kMinute, 1, true};
  }
  return {};
}

RetentionPolicy RetentionPolicy::custom(QosClass c, std::uint64_t min_retain_seconds,
                                        std::uint64_t max_retain_seconds,
                                        std::uint8_t eviction_priority, bool compression_eligible) {
  return {c, min_retain_seconds, max_retain_seconds,
          std::clamp<std::uint8_t>(eviction_priority, 1, 5), compression_eligible};
}

double retain_below_pressure(QosClass c) {
  switch (c) {
    case QosClass::kCritical:
      return std::numeric_limits<double>::infinity();
    case QosClass::kHigh:
      return 0.95;
    case QosClass::kNormal:
      return 0.85;
    case QosClass::kLow:
      return 0.75;
    case QosClass::kBulk:
      return 0.65;
  }
  return 0.85;
}

bool RetentionPolicy::should_retain(std::uint64_t age_seconds, double pressure) const {
  if (age_seconds < min_retain_seconds) return true;
  if (age_seconds > max_retain_seconds) return false;
  return pressure < retain_below_pressure(qos_class);
}

RetentionPolicies RetentionPolicies::default_tactical() {
  std::array<RetentionPolicy, kQosClassCount> p;
  for (QosClass c : kAllQosClasses) p[qos_index(c)] = RetentionPolicy::for_qos_class(c);
  return RetentionPolicies(p);
}

RetentionPolicies RetentionPolicies::storage_constrained() {
  RetentionPolicies r = default_tactical();
  r.set(RetentionPolicy::custom(QosClass::kHigh, 12 * kHour, 3 * kDay, 4, true));
  r.set(RetentionPolicy::custom(QosClass::kNormal, 30 * kMinute, 12 * kHour, 3, true));
  r.set(RetentionPolicy::custom(QosClass::kLow, 2 * kMinute, 30 * kMinute, 2, true));
  r.set(RetentionPolicy::custom(QosClass::kBulk, 30, 2 * kMinute, 1, true));
  return r;
}

std::vector<RetentionPolicy> RetentionPolicies::by_eviction_priority() const {
  std::vector<RetentionPolicy> out(policies_.begin(), policies_.end());
  std::stable_sort(out.begin(), out.end(), [](const RetentionPolicy& a, const RetentionPolicy& b) {
    return a.eviction_priority < b.eviction_priority;
  });
  return out;
}

std::vector<QosClass> RetentionPolicies::eviction_candidates(double pressure) const {
  std::vector<QosClass> out;
  for (QosClass c : {QosClass::kBulk, QosClass::kLow, QosClass::kNormal, QosClass::kHigh}) {
    const RetentionPolicy& p = get(c);
    std::uint64_t age =
        pressure > 0.9
            ? (p.min_retain_seconds == kRetainForever ? kRetainForever : p.min_retain_seconds + 1)
            : p.max_retain_seconds / 2;
    if (p.should_evict(age, pressure)) out.push_back(c);
  }
  return out;
}

}  // namespace peat::qos
