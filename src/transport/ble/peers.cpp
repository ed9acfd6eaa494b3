#include "peat/transport/ble/peers.hpp"

#include <algorithm>
#include <cctype>

#include "peat/transport/ble.hpp"
#include "peat/transport/ble/gatt.hpp"

namespace peat::transport::ble {

std::optional<std::uint32_t> peat_node_id(const DeviceInfo& info) {
  bool advertised = std::any_of(info.uuids.begin(), info.uuids.end(),
                                [](const std::string& u) { return is_service_uuid(u); });
  for (const auto& [uuid, data] : info.service_data) {
    if (!is_service_uuid(uuid)) continue;
    advertised = true;
    if (data.size() >= 4) {
      return (std::uint32_t{data[0]} << 24) | (std::uint32_t{data[1]} << 16) |
             (std::uint32_t{data[2]} << 8) | std::uint32_t{data[3]};
    }
  }
  if (!advertised) return std::nullopt;
  std::string_view name = info.name;
  if (name.size() != kNamePrefix.size() + 8 || !name.starts_with(kNamePrefix)) return std::nullopt;
  auto id = parse_peer_id(name.substr(kNamePrefix.size()));
  if (!id) return std::nullopt;
  return id.value();
}

std::uint8_t signal_quality_from_rssi(std::optional<std::int16_t> rssi) {
  if (!rssi) return kDefaultSignalQuality;
  const int clamped = std::clamp<int>(*rssi, -100, -40);
  return static_cast<std::uint8_t>((clamped + 100) * 100 / 60);
}

ConnectionHealth link_health(bool alive, std::uint32_t typical_latency_ms, Instant last_activity) {
  ConnectionHealth h;
  h.last_activity = last_activity;
  if (alive) {
    h.rtt_ms = typical_latency_ms;
    h.rtt_variance_ms = 10;
    h.state = ConnectionState::kHealthy;
  } else {
    h.state = ConnectionState::kDead;
  }
  return h;
}

std::optional<PeerId> PeerTable::observe(const std::string& device, const DeviceInfo& info) {
  auto id = peat_node_id(info);
  if (!id) {
    devices_.erase(device);
    return std::nullopt;
  }
  Entry& e = devices_[device];
  e.peer = peer_id(*id);
  e.info = info;
  return e.peer;
}

std::optional<PeerId> PeerTable::forget(const std::string& device) {
  auto it = devices_.find(device);
  if (it == devices_.end()) return std::nullopt;
  PeerId peer = it->second.peer;
  devices_.erase(it);
  return peer;
}

std::optional<std::string> PeerTable::device_of(const PeerId& peer) const {
  for (const auto& [device, e] : devices_) {
    if (e.peer == peer) return device;
  }
  return std::nullopt;
}

std::optional<std::string> PeerTable::device_with_address(const std::string& address) const {
  for (const auto& [device, e] : devices_) {
    if (e.info.address.size() != address.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < address.size() && same; ++i) {
      same = std::toupper(static_cast<unsigned char>(address[i])) ==
             std::toupper(static_cast<unsigned char>(e.info.address[i]));
    }
    if (same) return device;
  }
  return std::nullopt;
}

std::optional<PeerId> PeerTable::peer_of(const std::string& device) const {
  auto it = devices_.find(device);
  if (it == devices_.end()) return std::nullopt;
  return it->second.peer;
}

std::vector<PeerId> PeerTable::discovered() const {
  std::vector<PeerId> out;
  for (const auto& [device, e] : devices_) out.push_back(e.peer);
  return out;
}

bool PeerTable::is_reachable(const PeerId& peer) const {
  return manual_.contains(peer) || device_of(peer).has_value();
}

std::uint8_t PeerTable::signal_quality(const PeerId& peer) const {
  for (const auto& [device, e] : devices_) {
    if (e.peer == peer) return signal_quality_from_rssi(e.info.rssi);
  }
  return kDefaultSignalQuality;
}

}  // namespace peat::transport::ble
