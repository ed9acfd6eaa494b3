// BluezTransport: the BLE Transport over BlueZ's D-Bus API (sd-bus), central role.
// Scans for peat-btle nodes (service UUID in UUIDs/ServiceData), connects with Device1.Connect,
// writes fragments (see fragment.hpp) to the sync-data characteristic with WriteValue and
// receives the peer's fragments as notifications (StartNotify + PropertiesChanged "Value").
// The peripheral role (our own GATT server and advertisement) is not implemented: see docs/ble.md.
// Built only with -DPEAT_BLUETOOTH=ON. Threading: the IoLoop's thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "peat/runtime/io_loop.hpp"
#include "peat/transport/ble/fragment.hpp"
#include "peat/transport/transport.hpp"

namespace peat::transport::ble {

struct BluezConfig {
  std::string bus_address;     // D-Bus address; empty = the system bus
  std::string adapter;         // e.g. "hci0"; empty = the first org.bluez.Adapter1
  std::uint16_t att_mtu = 23;  // fragments are at most att_mtu - 3 bytes
  ReassemblyLimits reassembly{};
  std::size_t max_queued_fragments = 256;  // per peer; beyond it send() says WOULD_BLOCK
  std::uint32_t call_timeout_ms = 20'000;  // D-Bus method calls (Connect can be slow)
};

class BluezTransport final : public Transport {
 public:
  BluezTransport(runtime::IoLoop& loop, BluezConfig config);
  ~BluezTransport() override;
  BluezTransport(const BluezTransport&) = delete;
  BluezTransport& operator=(const BluezTransport&) = delete;

  const Capabilities& capabilities() const override;
  void set_events(TransportEvents events) override;
  // Connects to the bus, picks the adapter, starts LE discovery. Errors: "BLE_BUS_UNAVAILABLE",
  // "BLE_NO_ADAPTER", "BLE_DBUS_ERROR".
  Status start() override;
  void stop() override;
  // `peer` is a BLE peer id ("%08X"); when it has not been discovered, an address host equal to
  // a known device's Bluetooth address is used instead.
  void connect(const PeerId& peer, const std::vector<PeerAddress>& addresses) override;
  void disconnect(const PeerId& peer) override;
  bool is_connected(const PeerId& peer) const override;
  std::vector<PeerId> connected_peers() const override;
  Status send(const PeerId& peer, Channel channel, ByteView message) override;
  // BLE has no unreliable path here: always "UNSUPPORTED" (or "NOT_CONNECTED").
  Status send_datagram(const PeerId& peer, ByteView datagram) override;
  std::optional<ConnectionHealth> health(const PeerId& peer) const override;

  // Rust BLE adapter extras: available <=> started; reachable = discovered, added, or connected.
  bool is_available() const;
  bool can_reach(const PeerId& peer) const;
  void add_reachable(const PeerId& peer);
  void remove_reachable(const PeerId& peer);
  std::uint8_t signal_quality(const PeerId& peer) const;
  std::vector<PeerId> discovered_peers() const;
  // The adapter's object path (e.g. "/org/bluez/hci0"), empty before start().
  std::string adapter_path() const;
  // Fragments the peer sent that were rejected by the reassembler.
  std::uint64_t rejected_fragments() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace peat::transport::ble
