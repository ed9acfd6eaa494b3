#include "peat/qos/qos_policy.hpp"

namespace peat::qos {

QosPolicy QosPolicy::critical() {
  return {QosClass::kCritical, 500, 64 * 1024, std::nullopt, 5, false};
}
QosPolicy QosPolicy::high() {
  return {QosClass::kHigh, 5'000, 10 * 1024 * 1024, 3'600, 4, true};
}
QosPolicy QosPolicy::normal() {
  return {QosClass::kNormal, 60'000, std::nullopt, std::nullopt, 3, true};
}
QosPolicy QosPolicy::low() {
  return {QosClass::kLow, 300'000, std::nullopt, 86'400, 2, true};
}
QosPolicy QosPolicy::bulk() {
  return {QosClass::kBulk, std::nullopt, std::nullopt, 604'800, 1, true};
}

QosPolicy QosPolicy::for_class(QosClass c) {
  switch (c) {
    case QosClass::kCritical:
      return critical();
    case QosClass::kHigh:
      return high();
    case QosClass::kNormal:
      return normal();
    case QosClass::kLow:
      return low();
    case QosClass::kBulk:
      return bulk();
  }
  return normal();
}

}  // namespace peat::qos
