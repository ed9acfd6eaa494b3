// BLE peer discovery state (sans-I/O): advertisements -> peat peers, the reachable set, RSSI ->
// signal quality, and link health as the Rust BLE adapter reports it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/transport/transport.hpp"

namespace peat::transport::ble {

// What BlueZ (or any scanner) knows about one remote device.
struct DeviceInfo {
  std::string address;  // "AA:BB:CC:DD:EE:FF"
  std::string name;     // Name, else Alias
  std::vector<std::string> uuids;
  std::map<std::string, Bytes> service_data;  // UUID -> bytes
  std::optional<std::int16_t> rssi;
};

// A peat node advertises the service UUID (in UUIDs or as a ServiceData key). Its node id is the
// first 4 service-data bytes (big-endian, peat-btle's [node_id][mesh_id]) or else the "PEAT-%08X"
// name. Returns nullopt for devices that are not peat nodes or carry no node id.
std::optional<std::uint32_t> peat_node_id(const DeviceInfo& info);

// Rust has a constant 75; with an RSSI we map -100 dBm..-40 dBm linearly onto 0..100.
inline constexpr std::uint8_t kDefaultSignalQuality = 75;
std::uint8_t signal_quality_from_rssi(std::optional<std::int16_t> rssi);

// Rust BLE adapter: Healthy, rtt = typical latency, variance 10 while alive; Dead otherwise.
ConnectionHealth link_health(bool alive, std::uint32_t typical_latency_ms, Instant last_activity);

class PeerTable {
 public:
  // Records a device's current info (keyed by e.g. its D-Bus path). Returns its peer id when it is
  // a peat node; a device that stops looking like one is forgotten.
  std::optional<PeerId> observe(const std::string& device, const DeviceInfo& info);
  // The device vanished; returns the peer it was.
  std::optional<PeerId> forget(const std::string& device);

  std::optional<std::string> device_of(const PeerId& peer) const;
  // Finds a device by Bluetooth address (case-insensitive).
  std::optional<std::string> device_with_address(const std::string& address) const;
  std::optional<PeerId> peer_of(const std::string& device) const;
  std::vector<PeerId> discovered() const;

  // Peers reachable by configuration rather than by advertisement (Rust add/remove API).
  void add_reachable(const PeerId& peer) { manual_.insert(peer); }
  void remove_reachable(const PeerId& peer) { manual_.erase(peer); }
  bool is_reachable(const PeerId& peer) const;

  std::uint8_t signal_quality(const PeerId& peer) const;

 private:
  struct Entry {
    PeerId peer;
    DeviceInfo info;
  };
  std::map<std::string, Entry> devices_;
  std::set<PeerId> manual_;
};

}  // namespace peat::transport::ble
