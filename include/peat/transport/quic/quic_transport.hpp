// QuicTransport: the Transport interface over QUIC on one UDP socket of an IoLoop. Each peer gets
// one connection (dialled or accepted on the same socket); each channel is one ordered stream
// of length-prefixed messages, and send_unordered() puts a message on a stream of its own.
// Uses UDP GSO for sending and GRO for receiving when the kernel offers them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peat/common/random.hpp"
#include "peat/runtime/io_loop.hpp"
#include "peat/transport/quic/config.hpp"
#include "peat/transport/transport.hpp"

namespace peat::transport::quic {

struct QuicTransportConfig {
  Identity identity;
  std::string bind_host = "0.0.0.0";
  std::uint16_t bind_port = 0;  // 0: any free port (see local_port())
  QuicSettings settings;
  // ALPNs accepted from dialling peers, and the one connect() offers.
  std::vector<std::string> accept_alpns{std::string(kAlpnSync), std::string(kAlpnEnroll),
                                        std::string(kAlpnBlobs)};
  std::string connect_alpn{kAlpnSync};
  // Exact public keys for peers known in advance. Without an entry a dialled peer is still
  // pinned: its key must hash to the peer id given to connect().
  std::map<PeerId, PublicKey> pinned_keys;
  // Formation gate for accepted connections; empty admits every authenticated peer.
  AdmitFn admit;
  bool use_gso = true;
  bool use_gro = true;
  // Half-open plus established connections; more Initial packets are ignored.
  std::size_t max_connections = 1024;
};

// Counters of the socket layer, for tests and benchmarks.
struct QuicIoStats {
  bool gso = false;
  bool gro = false;
  std::uint64_t datagrams_sent = 0;
  std::uint64_t datagrams_received = 0;
  std::uint64_t send_calls = 0;
  std::uint64_t ignored_datagrams = 0;  // not QUIC, unknown connection, or refused
  std::uint64_t send_errors = 0;
  std::uint64_t stateless_resets_sent = 0;  // answers to packets for connections we do not know
};

class QuicTransport final : public Transport {
 public:
  // `rng` feeds connection ids and reset tokens; it must outlive the transport.
  QuicTransport(runtime::IoLoop& loop, QuicTransportConfig config, Rng& rng);
  ~QuicTransport() override;
  QuicTransport(const QuicTransport&) = delete;
  QuicTransport& operator=(const QuicTransport&) = delete;

  const Capabilities& capabilities() const override;
  void set_events(TransportEvents events) override;
  // Errors: "INVALID_IDENTITY", "BIND_FAILED".
  Status start() override;
  void stop() override;
  void connect(const PeerId& peer, const std::vector<PeerAddress>& addresses) override;
  void disconnect(const PeerId& peer) override;
  bool is_connected(const PeerId& peer) const override;
  std::vector<PeerId> connected_peers() const override;
  // Errors also include "CHANNEL_NOT_ALLOWED" (the connection's ALPN does not carry `channel`).
  Status send(const PeerId& peer, Channel channel, ByteView message) override;
  Status send_datagram(const PeerId& peer, ByteView datagram) override;
  std::optional<ConnectionHealth> health(const PeerId& peer) const override;

  // Dials offering `alpn` instead of config.connect_alpn (e.g. "peat/enroll/1").
  void connect(const PeerId& peer, const std::vector<PeerAddress>& addresses,
               std::string_view alpn);
  // Like send(), but on a fresh stream: not ordered with other messages, no head-of-line blocking.
  Status send_unordered(const PeerId& peer, Channel channel, ByteView message);
  const PeerId& local_peer_id() const;
  std::optional<std::uint16_t> local_port() const;
  QuicIoStats io_stats() const;
  // Serves connections accepted with `alpn` (which must be in accept_alpns) apart from the peer
  // links, on the same socket: `admit` decides on them instead of config.admit, their events go
  // to `events` only, and they are never the peer's connection (is_connected(), send() and the
  // main events do not see them), so a member may also hold such a connection to us. A peer's
  // newer connection on `alpn` replaces its older one. Example: the enrollment endpoint on the
  // node's QUIC port, admitting any key on peat/enroll/1 while the mesh gates peat/sync/1.
  void serve(std::string alpn, AdmitFn admit, TransportEvents events);
  // Sends on a peer's connection of a served ALPN. Errors: "NOT_SERVED", "NOT_CONNECTED", and
  // those of send().
  Status send_served(std::string_view alpn, const PeerId& peer, Channel channel, ByteView message);
  // Moves to a new UDP socket on `port` (0: any free port) of the same host, e.g. after a
  // network change. Connections this node dialled stay up: their peers see a NAT rebinding,
  // validate the new path and answer there. Connections this node accepted do not follow (a QUIC
  // client ignores a server's new address) and end by idle timeout.
  // Errors: "NOT_STARTED", "BIND_FAILED".
  Status rebind(std::uint16_t port = 0);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace peat::transport::quic
