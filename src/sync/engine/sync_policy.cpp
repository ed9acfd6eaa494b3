#include "peat/sync/sync_policy.hpp"

#include <array>

namespace peat::sync {

std::string_view collection_of(std::string_view key) {
  auto p = key.find(':');
  return p == std::string_view::npos ? key : key.substr(0, p);
}

SyncMode SyncPolicyRegistry::default_mode(std::string_view c) {
  static constexpr std::array<std::string_view, 9> kLatest = {
      "beacons",         "platforms",         "tracks",           "nodes", "cells", "node_states",
      "squad_summaries", "platoon_summaries", "company_summaries"};
  for (auto l : kLatest) {
    if (c == l) return SyncMode::latest_only();
  }
  if (c == "track_history" || c == "capability_history") {
    return SyncMode::windowed(std::chrono::seconds(300));
  }
  return SyncMode::full_history();
}

QosClass SyncPolicyRegistry::default_qos(std::string_view c) {
  if (c == "alerts") return QosClass::kCritical;
  if (c == "commands") return QosClass::kHigh;
  if (c == "track_history" || c == "capability_history" || c == "audit_logs") {
    return QosClass::kBulk;
  }
  return QosClass::kNormal;
}

PropagationDirection SyncPolicyRegistry::default_direction(std::string_view c) {
  if (c == "cells" || c == "contact_reports") return PropagationDirection::kUpOnly;
  if (c == "commands") return PropagationDirection::kDownOnly;
  return PropagationDirection::kBidirectional;
}

SyncMode SyncPolicyRegistry::mode(std::string_view c) const {
  auto it = modes_.find(c);
  return it == modes_.end() ? default_mode(c) : it->second;
}

QosClass SyncPolicyRegistry::qos(std::string_view c) const {
  auto it = qos_.find(c);
  return it == qos_.end() ? default_qos(c) : it->second;
}

PropagationDirection SyncPolicyRegistry::direction(std::string_view c) const {
  auto it = directions_.find(c);
  return it == directions_.end() ? default_direction(c) : it->second;
}

void SyncPolicyRegistry::set_mode(std::string c, SyncMode m) {
  modes_[std::move(c)] = m;
}
void SyncPolicyRegistry::set_qos(std::string c, QosClass q) {
  qos_[std::move(c)] = q;
}
void SyncPolicyRegistry::set_direction(std::string c, PropagationDirection d) {
  directions_[std::move(c)] = d;
}

}  // namespace peat::sync
