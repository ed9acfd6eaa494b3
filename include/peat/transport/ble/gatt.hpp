// The GATT layout peat-btle nodes expose, so a C++ node talks to them over the same service.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace peat::transport::ble {

// peat-btle's 128-bit service UUID (lower case, as BlueZ reports UUIDs).
inline constexpr std::string_view kServiceUuid = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
// Its 16-bit alias (0xA1B2) in Bluetooth SIG base form, used in advertisements.
inline constexpr std::string_view kServiceUuid16 = "0000a1b2-0000-1000-8000-00805f9b34fb";
// Advertised device names are "PEAT-" + the node id as "%08X".
inline constexpr std::string_view kNamePrefix = "PEAT-";

// peat-btle characteristic ids; the characteristic UUID is the service UUID with bytes 2..3
// replaced by the id (e.g. sync data = a1b20003-e5f6-...).
enum class Characteristic : std::uint16_t {
  kNodeInfo = 0x0001,
  kSyncState = 0x0002,
  kSyncData = 0x0003,
  kCommand = 0x0004,
  kStatus = 0x0005,
};
std::string characteristic_uuid(Characteristic id);

// True for either form of the service UUID, in any case.
bool is_service_uuid(std::string_view uuid);

}  // namespace peat::transport::ble
