// Transport: how a node reaches a peer. QUIC, UDP bypass, BLE and the simulated network all
// implement this one interface, so everything above it runs unchanged on any of them.
//
// Threading: a transport lives on one executor (an Asio io_context thread, or the simulator's
// loop). Every method must be called there and every event is delivered there.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/common/result.hpp"

namespace peat::transport {

// A peer's identity as transports see it: the device id in lowercase hex (32 chars).
using PeerId = std::string;

// Where a peer may be reached: "host:port" for IP transports, a MAC or sim address otherwise.
struct PeerAddress {
  std::string host;
  std::uint16_t port = 0;
  bool operator==(const PeerAddress&) const = default;
  std::string to_string() const { return host + ":" + std::to_string(port); }
};

enum class TransportType : std::uint8_t { kQuic, kUdpBypass, kBluetoothLe, kLite, kSimulated };

// What a transport offers; the transport manager picks links by these (Rust: capabilities.rs).
struct Capabilities {
  TransportType type = TransportType::kQuic;
  bool reliable = true;
  bool ordered = true;
  std::size_t max_message_size = 0;  // 0 = unlimited
  std::uint64_t bandwidth_bps = 0;   // nominal
  std::uint32_t typical_latency_ms = 0;
  std::uint8_t power_cost = 0;  // 0 (mains) .. 100 (battery critical)
  std::uint32_t max_range_m = 0;
};

// Application protocols multiplexed over one connection (one ALPN each on QUIC).
enum class Channel : std::uint8_t { kSync = 0, kEnrollment = 1, kBlobs = 2, kControl = 3 };

enum class DisconnectReason : std::uint8_t {
  kRemoteClosed,
  kTimeout,
  kNetworkError,
  kLocalClosed,
  kIdleTimeout,
  kApplicationError,
  kAuthenticationFailed,
  kUnknown
};
const char* to_string(DisconnectReason reason);

enum class ConnectionState : std::uint8_t { kHealthy, kDegraded, kSuspect, kDead };

struct ConnectionHealth {
  std::uint32_t rtt_ms = 0;
  std::uint32_t rtt_variance_ms = 0;
  std::uint8_t packet_loss_percent = 0;
  ConnectionState state = ConnectionState::kHealthy;
  Instant last_activity{};
};

// Callbacks a transport's owner installs; any may be empty.
struct TransportEvents {
  std::function<void(const PeerId&)> on_connected;
  std::function<void(const PeerId&, DisconnectReason, const std::string& detail)> on_disconnected;
  // A whole message received on a reliable channel.
  std::function<void(const PeerId&, Channel, Bytes)> on_message;
  // An unreliable datagram.
  std::function<void(const PeerId&, Bytes)> on_datagram;
  // Send capacity freed after send() returned "WOULD_BLOCK".
  std::function<void(const PeerId&)> on_writable;
};

class Transport {
 public:
  virtual ~Transport() = default;

  virtual const Capabilities& capabilities() const = 0;
  virtual void set_events(TransportEvents events) = 0;

  virtual Status start() = 0;
  // Closes every connection (peers see kRemoteClosed) and releases sockets.
  virtual void stop() = 0;

  // Starts connecting; the outcome arrives as on_connected or on_disconnected.
  virtual void connect(const PeerId& peer, const std::vector<PeerAddress>& addresses) = 0;
  virtual void disconnect(const PeerId& peer) = 0;
  virtual bool is_connected(const PeerId& peer) const = 0;
  virtual std::vector<PeerId> connected_peers() const = 0;

  // Queues a whole message for reliable, ordered delivery on `channel`. Errors: "NOT_CONNECTED",
  // "MESSAGE_TOO_LARGE", "WOULD_BLOCK" (queue full: wait for on_writable).
  virtual Status send(const PeerId& peer, Channel channel, ByteView message) = 0;
  // Best-effort datagram. Errors: "NOT_CONNECTED", "MESSAGE_TOO_LARGE", "UNSUPPORTED".
  virtual Status send_datagram(const PeerId& peer, ByteView datagram) = 0;

  virtual std::optional<ConnectionHealth> health(const PeerId& peer) const = 0;
};

}  // namespace peat::transport
