#include "peat/transport/ble.hpp"

#include <cstdio>

namespace peat::transport::ble {

Capabilities default_capabilities() {
  Capabilities c;
  c.type = TransportType::kBluetoothLe;
  c.reliable = true;
  c.ordered = true;
  c.max_message_size = 512;
  c.bandwidth_bps = 250'000;
  c.typical_latency_ms = 30;
  c.power_cost = 15;
  c.max_range_m = 100;
  return c;
}

std::string peer_id(std::uint32_t node_id) {
  char text[9];
  std::snprintf(text, sizeof text, "%08X", node_id);
  return text;
}

Result<std::uint32_t> parse_peer_id(std::string_view peer) {
  std::string_view digits = peer;
  if (digits.starts_with("0x") || digits.starts_with("0X")) digits.remove_prefix(2);
  if (digits.empty() || digits.size() > 8) {
    return make_error("INVALID_PEER_ID", "not a BLE peer id: " + std::string(peer));
  }
  std::uint32_t value = 0;
  for (char c : digits) {
    std::uint32_t nibble = 0;
    if (c >= '0' && c <= '9')
      nibble = static_cast<std::uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      nibble = static_cast<std::uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      nibble = static_cast<std::uint32_t>(c - 'A' + 10);
    else
      return make_error("INVALID_PEER_ID", "not a BLE peer id: " + std::string(peer));
    value = (value << 4) | nibble;
  }
  return value;
}

}  // namespace peat::transport::ble
