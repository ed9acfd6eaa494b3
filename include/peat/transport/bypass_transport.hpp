// BypassTransport: the UDP bypass channel as a transport::Transport (datagrams only; reliable
// send() returns "UNSUPPORTED"). Plain mode talks to the Rust crate's bypass channel byte for
// byte; the authenticated modes add signatures, encryption, TTL and replay checks
// (docs/bypass-format.md). The socket lives on a runtime::IoLoop.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "peat/runtime/io_loop.hpp"
#include "peat/transport/bypass_codec.hpp"
#include "peat/transport/transport.hpp"

namespace peat::transport {

struct BypassTransportConfig {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = bypass::kDefaultPort;  // 0: an ephemeral port (see local_port())
  std::size_t recv_buffer = 65536;            // Rust default
  std::size_t max_message_size = 65000;       // payload bytes; 0 = up to the UDP limit
  std::string default_collection = "bypass";  // collection used by send_datagram()
  std::uint64_t default_ttl_ms = 5000;        // Rust default collection TTL
  bypass::Mode mode = bypass::Mode::kPlain;
  bypass::SenderCredentials credentials;  // our id and keys for the authenticated modes
  bypass::SecurityPolicy policy;          // what we accept
};

struct BypassMessage {
  PeerId peer;  // device id (hex) for authenticated packets, else the connected peer at that
                // address, else "udp:<ip>:<port>"
  PeerAddress source;
  bypass::Message message;
  Instant received_at{};
};

class BypassTransport final : public Transport {
 public:
  BypassTransport(runtime::IoLoop& loop, BypassTransportConfig config);
  ~BypassTransport() override;
  BypassTransport(const BypassTransport&) = delete;
  BypassTransport& operator=(const BypassTransport&) = delete;

  const Capabilities& capabilities() const override;
  void set_events(TransportEvents events) override;
  // Errors: "BIND_FAILED", "INVALID_ADDRESS".
  Status start() override;
  void stop() override;
  // UDP has no handshake: records the peer's first address and reports on_connected.
  // Addresses must be IP literals; otherwise on_disconnected(kNetworkError).
  void connect(const PeerId& peer, const std::vector<PeerAddress>& addresses) override;
  void disconnect(const PeerId& peer) override;
  bool is_connected(const PeerId& peer) const override;
  std::vector<PeerId> connected_peers() const override;
  // Always "UNSUPPORTED": the bypass channel is unreliable by design.
  Status send(const PeerId& peer, Channel channel, ByteView message) override;
  // Sends on the default collection. Errors: "NOT_STARTED", "NOT_CONNECTED",
  // "MESSAGE_TOO_LARGE", "MISSING_CREDENTIAL", "NETWORK_ERROR".
  Status send_datagram(const PeerId& peer, ByteView datagram) override;
  // Healthy while connected; rtt unknown (0); last_activity = last packet from the peer.
  std::optional<ConnectionHealth> health(const PeerId& peer) const override;

  Status send_to_collection(const PeerId& peer, std::string_view collection, ByteView payload);
  Status send_to_address(const PeerAddress& to, std::string_view collection, ByteView payload);
  // Every accepted packet with its header and sender (in addition to on_datagram).
  void set_on_bypass_message(std::function<void(const BypassMessage&)> handler);

  std::uint16_t local_port() const;
  // Send counters plus the decoder's receive/reject counters.
  bypass::Metrics metrics() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace peat::transport
