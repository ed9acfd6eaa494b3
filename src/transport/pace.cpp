#include "peat/transport/pace.hpp"

#include <algorithm>

namespace peat::transport {

const char* to_string(PaceLevel level) {
  switch (level) {
    case PaceLevel::kPrimary:
      return "PRIMARY";
    case PaceLevel::kAlternate:
      return "ALTERNATE";
    case PaceLevel::kContingency:
      return "CONTINGENCY";
    case PaceLevel::kEmergency:
      return "EMERGENCY";
    case PaceLevel::kNone:
      return "NONE";
  }
  return "NONE";
}

std::vector<std::string> PacePolicy::ordered() const {
  std::vector<std::string> out;
  for (const auto* tier : {&primary, &alternate, &contingency, &emergency}) {
    out.insert(out.end(), tier->begin(), tier->end());
  }
  return out;
}

PaceLevel PacePolicy::current_level(const std::set<std::string>& available) const {
  const std::vector<std::string>* tiers[] = {&primary, &alternate, &contingency, &emergency};
  for (int i = 0; i < 4; ++i) {
    for (const auto& id : *tiers[i]) {
      if (available.contains(id)) return static_cast<PaceLevel>(i);
    }
  }
  return PaceLevel::kNone;
}

std::vector<std::string> PacePolicy::at_level(PaceLevel level) const {
  std::vector<std::string> out;
  const std::vector<std::string>* tiers[] = {&primary, &alternate, &contingency, &emergency};
  int last = std::min(static_cast<int>(level), 3);
  for (int i = 0; i <= last; ++i) out.insert(out.end(), tiers[i]->begin(), tiers[i]->end());
  return out;
}

PaceLevel PacePolicy::level_of(const std::string& id) const {
  const std::vector<std::string>* tiers[] = {&primary, &alternate, &contingency, &emergency};
  for (int i = 0; i < 4; ++i) {
    if (std::find(tiers[i]->begin(), tiers[i]->end(), id) != tiers[i]->end()) {
      return static_cast<PaceLevel>(i);
    }
  }
  return PaceLevel::kNone;
}

bool meets_requirements(const Capabilities& caps, const MessageRequirements& req) {
  if (req.reliable && !caps.reliable) return false;
  if (caps.bandwidth_bps > 0 && caps.bandwidth_bps < req.min_bandwidth_bps) return false;
  if (caps.max_message_size > 0 && caps.max_message_size < req.message_size) return false;
  return true;
}

std::uint64_t estimate_delivery_ms(const Capabilities& caps, std::size_t size) {
  std::uint64_t ms = caps.typical_latency_ms;
  if (caps.bandwidth_bps > 0) ms += static_cast<std::uint64_t>(size) * 1000 / caps.bandwidth_bps;
  return ms;
}

int score(const Capabilities& caps, const MessageRequirements& req, int preference_bonus) {
  int s = 100;
  if (req.priority >= MessagePriority::kHigh) {
    s += 50 - static_cast<int>(std::min<std::uint32_t>(caps.typical_latency_ms, 50));
  }
  if (req.power_sensitive) s -= caps.power_cost;
  return s + preference_bonus;
}

}  // namespace peat::transport
