#include "peat/qos/qos_class.hpp"

#include <cctype>

namespace peat::qos {

std::string_view to_string(QosClass c) {
  switch (c) {
    case QosClass::kCritical:
      return "Critical";
    case QosClass::kHigh:
      return "High";
    case QosClass::kNormal:
      return "Normal";
    case QosClass::kLow:
      return "Low";
    case QosClass::kBulk:
      return "Bulk";
  }
  return "Normal";
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<QosClass> parse_qos_class(std::string_view text) {
  for (QosClass c : kAllQosClasses) {
    if (iequals(text, to_string(c))) return c;
  }
  if (iequals(text, "default")) return QosClass::kNormal;
  return make_error("INVALID_QOS_CLASS",
                    "unknown QoS class '" + std::string(text) +
                        "' (expected Critical, High, Normal, Low, Bulk or default)");
}

std::string display(QosClass c) {
  return "P" + std::to_string(qos_priority(c)) + ":" + std::string(to_string(c));
}

bool can_preempt(QosClass c, QosClass other) {
  return qos_priority(c) < qos_priority(other);
}

std::uint32_t bandwidth_allocation_percent(QosClass c) {
  switch (c) {
    case QosClass::kCritical:
      return 40;
    case QosClass::kHigh:
      return 30;
    case QosClass::kNormal:
      return 20;
    case QosClass::kLow:
      return 8;
    case QosClass::kBulk:
      return 2;
  }
  return 0;
}

}  // namespace peat::qos
