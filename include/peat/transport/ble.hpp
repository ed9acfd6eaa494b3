// BLE: the pieces of the Bluetooth LE transport that need no radio and are always built: the
// capability preset the TransportManager ranks a BLE link by, and BLE peer ids. The Transport
// itself is peat::transport::ble::BluezTransport (-DPEAT_BLUETOOTH=ON), see docs/ble.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "peat/common/result.hpp"
#include "peat/transport/transport.hpp"

namespace peat::transport::ble {

// Rust's `bluetooth_le` preset: 250,000 B/s, 30 ms, 100 m, reliable, battery 15, 512-byte messages.
Capabilities default_capabilities();

// BLE peers are named by their 32-bit mesh node id as 8 upper-case hex digits ("%08X").
std::string peer_id(std::uint32_t node_id);
// Accepts an optional "0x"/"0X" prefix and 1-8 hex digits in any case. Error: "INVALID_PEER_ID".
Result<std::uint32_t> parse_peer_id(std::string_view peer);

}  // namespace peat::transport::ble
