// Test support over real UDP on 127.0.0.1: the simulated device on a socket, and a fault proxy
// that sits between it and the bridge and drops / duplicates datagrams from a seeded generator.
#pragma once

#include <cstdint>
#include <memory>

#include "lite/sim_device.hpp"
#include "peat/common/random.hpp"
#include "peat/lite/udp_port.hpp"

namespace peat::lite::testing {

// A SimDevice on its own UDP socket; replies go to the sender's address.
class UdpSimDevice {
 public:
  UdpSimDevice(runtime::IoLoop& loop, SimDeviceConfig config);
  PeerAddress address() const { return port_->local_address(); }
  SimDevice& device() { return device_; }
  // Sends one of the device's own packets (announce, telemetry) to `to`.
  void send(const PeerAddress& to, ByteView packet);
  std::uint64_t received() const { return received_; }

 private:
  SimDevice device_;
  std::unique_ptr<DatagramPort> port_;
  std::uint64_t received_ = 0;
};

// Forwards datagrams between `device` and `upstream`: anything from the device goes upstream,
// anything else goes to the device. Each forwarded datagram is dropped with probability
// `drop` and sent twice with probability `duplicate`; decisions come from SeededRng(seed).
class UdpFaultProxy {
 public:
  UdpFaultProxy(runtime::IoLoop& loop, PeerAddress device, PeerAddress upstream,
                std::uint64_t seed);
  PeerAddress address() const { return port_->local_address(); }
  void set_faults(double drop, double duplicate) {
    drop_ = drop;
    duplicate_ = duplicate;
  }
  // Drops everything in both directions (a device out of range).
  void set_blackhole(bool on) { blackhole_ = on; }
  std::uint64_t forwarded() const { return forwarded_; }
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t duplicated() const { return duplicated_; }

 private:
  void on_datagram(const PeerAddress& from, ByteView datagram);

  PeerAddress device_;
  PeerAddress upstream_;
  SeededRng rng_;
  std::unique_ptr<DatagramPort> port_;
  double drop_ = 0;
  double duplicate_ = 0;
  bool blackhole_ = false;
  std::uint64_t forwarded_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t duplicated_ = 0;
};

}  // namespace peat::lite::testing
