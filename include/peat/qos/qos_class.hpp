// QoS classes (spec 1.13): five priority levels shared by sync, storage eviction, bandwidth
// allocation and preemption. A lower number is a higher priority.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "peat/common/result.hpp"

namespace peat::qos {

enum class QosClass : std::uint8_t { kCritical = 1, kHigh = 2, kNormal = 3, kLow = 4, kBulk = 5 };
inline constexpr std::size_t kQosClassCount = 5;

// Every class, highest priority first (handy for loops and tables).
inline constexpr QosClass kAllQosClasses[kQosClassCount] = {
    QosClass::kCritical, QosClass::kHigh, QosClass::kNormal, QosClass::kLow, QosClass::kBulk};

// 0 for Critical .. 4 for Bulk, for arrays indexed by class.
inline std::size_t qos_index(QosClass c) {
  return static_cast<std::size_t>(c) - 1;
}

// Priority number 1..5 (the enum value).
inline std::uint8_t qos_priority(QosClass c) {
  return static_cast<std::uint8_t>(c);
}

// "Critical", "High", "Normal", "Low", "Bulk" (the serialized form).
std::string_view to_string(QosClass c);
// Case-insensitive variant name; "default" is an alias of Normal. INVALID_QOS_CLASS otherwise.
Result<QosClass> parse_qos_class(std::string_view text);
// "P1:Critical" .. "P5:Bulk".
std::string display(QosClass c);
// True when `c` has a strictly higher priority (lower number) than `other`.
bool can_preempt(QosClass c, QosClass other);
// Nominal share of the link per class: 40/30/20/8/2 (sums to 100). The bandwidth allocator has
// its own guaranteed/burst table (bandwidth.hpp); see docs/qos.md.
std::uint32_t bandwidth_allocation_percent(QosClass c);
// Priority comparison: true when `a` is more important than `b` (Critical is the greatest).
inline bool higher_priority(QosClass a, QosClass b) {
  return can_preempt(a, b);
}

}  // namespace peat::qos
