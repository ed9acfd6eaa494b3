// PACE (Primary, Alternate, Contingency, Emergency) transport policy and capability-based
// scoring, as in the Rust crate (capabilities.rs); used by the TransportManager.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "peat/transport/transport.hpp"

namespace peat::transport {

enum class PaceLevel : std::uint8_t { kPrimary, kAlternate, kContingency, kEmergency, kNone };
const char* to_string(PaceLevel level);  // "PRIMARY", ..., "NONE"

// Ordered tiers of transport instance ids (e.g. "quic-eth0", "ble-hci0").
struct PacePolicy {
  std::string name;
  std::vector<std::string> primary;
  std::vector<std::string> alternate;
  std::vector<std::string> contingency;
  std::vector<std::string> emergency;

  std::vector<std::string> ordered() const;  // P, A, C, E
  // First tier with an available id; kNone if none.
  PaceLevel current_level(const std::set<std::string>& available) const;
  // Ids of every tier up to `level` (kEmergency/kNone: all).
  std::vector<std::string> at_level(PaceLevel level) const;
  // Tier of `id`; kNone if not in the policy.
  PaceLevel level_of(const std::string& id) const;
};

enum class MessagePriority : std::uint8_t { kBackground, kNormal, kHigh, kCritical };

struct MessageRequirements {
  std::uint64_t min_bandwidth_bps = 0;
  std::optional<std::uint32_t> max_latency_ms;
  std::size_t message_size = 0;
  bool reliable = false;
  MessagePriority priority = MessagePriority::kNormal;
  bool power_sensitive = false;
};

// Rust meets_requirements: reliability, bandwidth, message size (latency is checked separately).
bool meets_requirements(const Capabilities& caps, const MessageRequirements& req);
// latency + size / bandwidth, in ms (integer, as Rust).
std::uint64_t estimate_delivery_ms(const Capabilities& caps, std::size_t size);
// Rust calculate_score: 100, + (50 − min(latency, 50)) for High/Critical, − power cost when
// power-sensitive, + preference bonus.
int score(const Capabilities& caps, const MessageRequirements& req, int preference_bonus = 0);

}  // namespace peat::transport
