// Sans-I/O QUIC connection: ngtcp2 + GnuTLS (TLS 1.3, Ed25519 raw public keys). It owns no
// socket and reads no clock: the caller feeds received datagrams and `now`, pulls datagrams to
// send, polls events, and calls handle_timeout() when expiry() passes. Randomness for
// connection ids, reset tokens and path challenges comes from the injected Rng.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/common/random.hpp"
#include "peat/common/result.hpp"
#include "peat/transport/quic/config.hpp"
#include "peat/transport/transport.hpp"

namespace peat::transport::quic {

// A UDP socket address (IPv4 or IPv6), as the kernel spells it.
struct UdpEndpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

// Length of every connection id this implementation issues.
inline constexpr std::size_t kCidLength = 16;
// Largest payload send_datagram() accepts (fits a 1200-byte QUIC packet).
inline constexpr std::size_t kMaxDatagramPayload = 1100;

// The TLS credential of a node (its raw public key and private key), shared by its connections.
class TlsIdentity {
 public:
  // Errors: "INVALID_IDENTITY" (seed and public key disagree, or GnuTLS rejects the key).
  static Result<std::shared_ptr<TlsIdentity>> create(const Identity& identity);
  ~TlsIdentity();
  TlsIdentity(const TlsIdentity&) = delete;
  TlsIdentity& operator=(const TlsIdentity&) = delete;

  const PublicKey& public_key() const { return public_key_; }
  const PeerId& peer_id() const { return peer_id_; }
  void* credentials() const { return credentials_; }  // gnutls_certificate_credentials_t

 private:
  TlsIdentity() = default;
  PublicKey public_key_{};
  PeerId peer_id_;
  void* credentials_ = nullptr;
};

struct ConnectionOptions {
  std::shared_ptr<TlsIdentity> tls;
  QuicSettings settings;
  // Client: the ALPNs offered, most preferred first. Server: the ALPNs accepted.
  std::vector<std::string> alpns;
  // Client: the peer this connection must reach. The server's key must hash to `expected_peer`
  // and, when given, equal `expected_public_key` exactly; otherwise the handshake fails.
  std::optional<PeerId> expected_peer;
  std::optional<PublicKey> expected_public_key;
  // Server: optional formation gate, asked once the client's key is known.
  AdmitFn admit;
  // Set: the stateless reset token of every connection id this side issues is
  // stateless_reset_token(*reset_key, id), so the node can reset the connection even after it
  // lost its state (restart). Unset: random tokens.
  std::optional<ResetKey> reset_key;
};

enum class ConnectionEventType : std::uint8_t {
  kConnected,   // handshake complete and peer authenticated
  kMessage,     // channel + data
  kDatagram,    // data
  kWritable,    // send queue drained below half its limit after a WOULD_BLOCK
  kClosed,      // reason + detail; the connection is finished
  kCidIssued,   // cid: route packets with this destination id to this connection
  kCidRetired,  // cid: stop routing it
};

struct ConnectionEvent {
  ConnectionEventType type = ConnectionEventType::kConnected;
  Channel channel = Channel::kSync;
  Bytes data;
  DisconnectReason reason = DisconnectReason::kUnknown;
  std::string detail;
};

// Measured path figures, from ngtcp2's recovery state.
struct ConnectionStats {
  Duration smoothed_rtt{};
  Duration rtt_variance{};
  Duration min_rtt{};
  std::uint64_t congestion_window = 0;
  std::uint64_t bytes_in_flight = 0;
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t packets_lost = 0;  // packets with stream data declared lost
  std::uint64_t pto_count = 0;
  std::uint64_t bytes_queued = 0;
};

class Connection {
 public:
  // Starts a client handshake towards `remote`. The first datagrams come from write_datagrams().
  static Result<std::unique_ptr<Connection>> connect(ConnectionOptions options,
                                                     const UdpEndpoint& local,
                                                     const UdpEndpoint& remote, Rng& rng,
                                                     Instant now);
  // Creates the server side from a client's first Initial packet (which it then processes).
  // Errors: "NOT_INITIAL" (not a valid client Initial), "QUIC_ERROR".
  static Result<std::unique_ptr<Connection>> accept(ConnectionOptions options,
                                                    const UdpEndpoint& local,
                                                    const UdpEndpoint& remote,
                                                    ByteView first_packet, Rng& rng, Instant now);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Feeds one received UDP datagram. Errors never throw; a fatal one closes the connection
  // (a kClosed event follows).
  void receive(ByteView datagram, Instant now);  // from the connection's current remote address
  // `from` is the datagram's source. A server whose client now sends from another address (NAT
  // rebinding, a new client socket) validates the new path and moves the connection to it; see
  // destination().
  void receive(ByteView datagram, const UdpEndpoint& from, Instant now);
  // Where the datagrams of the last write_datagrams() batch go (every batch has one destination).
  const UdpEndpoint& destination() const;
  // The local address moved (e.g. the client rebound its socket to a new port). The peer sees
  // the change as a NAT rebinding and validates the new path.
  void set_local_address(const UdpEndpoint& local);
  // Fills `out` with up to `max_datagrams` datagrams, laid out back to back; all of them are
  // `segment_size` bytes long except possibly the last (the shape UDP GSO wants). Returns the
  // total byte count; 0 when nothing can be sent now (call again after the next event/timer).
  std::size_t write_datagrams(std::span<std::uint8_t> out, std::size_t& segment_size,
                              std::size_t max_datagrams, Instant now);
  // When handle_timeout() must next run (loss detection, ACK delay, pacing, idle, keep-alive, the
  // end of the closing or draining period).
  std::optional<Instant> expiry() const;
  void handle_timeout(Instant now);

  // Queues a message. Ordered messages share one stream per channel (in-order delivery);
  // unordered ones get a stream each (delivered as soon as complete, in any order).
  // Errors: "NOT_CONNECTED", "CHANNEL_NOT_ALLOWED", "MESSAGE_TOO_LARGE", "WOULD_BLOCK".
  Status send(Channel channel, ByteView message, bool ordered);
  // Errors: "NOT_CONNECTED", "UNSUPPORTED" (peer did not offer DATAGRAM), "MESSAGE_TOO_LARGE".
  // A full datagram queue drops the datagram (best effort).
  Status send_datagram(ByteView datagram);
  // Closes with an application error code (0 = normal) and a reason; the CONNECTION_CLOSE goes
  // out with the next write_datagrams(). The kClosed event comes at once; the connection then
  // stays in its closing period (three PTOs, RFC 9000 §10.2.1), answering late packets from the
  // peer with the CONNECTION_CLOSE again, until is_finished().
  void close(std::uint64_t error_code, std::string_view reason, Instant now);
  // A datagram from this connection's peer address whose destination connection id is none of
  // ours. If it ends with the stateless reset token of one of the peer's connection ids, the
  // peer lost the connection (RFC 9000 §10.3.1): kClosed with kNetworkError, then draining.
  // Returns whether it was such a reset.
  bool receive_unrouted(ByteView datagram, Instant now);
  // An ICMP error (port, host or network unreachable) came back for a datagram sent to the
  // peer's current address: nobody listens there any more (the process is gone). Ends the
  // connection at once (kClosed with kNetworkError), without a closing period.
  void report_unreachable(std::string_view why);

  std::optional<ConnectionEvent> poll_event();

  bool is_server() const;
  bool is_established() const;
  // True once closed by either side (the kClosed event was emitted), including the closing and
  // draining periods. A peer's CONNECTION_CLOSE or stateless reset starts the draining period:
  // later packets are dropped and nothing is sent (§10.2.2).
  bool is_closed() const;
  // True once the closing or draining period is over (or there was none): drop the connection.
  bool is_finished() const;
  const PeerId& peer_id() const;  // empty until authenticated
  const PublicKey& peer_public_key() const;
  const std::string& alpn() const;  // empty until the handshake completes
  std::vector<Bytes> local_cids() const;
  ConnectionStats stats() const;

  struct Impl;

 private:
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads the destination connection id of a QUIC packet (long or short header, with short
// headers assumed to carry kCidLength bytes). nullopt for anything that is not QUIC.
std::optional<Bytes> destination_cid(ByteView datagram);
// True if the datagram is a long-header Initial packet of a version this stack speaks.
bool is_initial_packet(ByteView datagram);

using StatelessResetToken = std::array<std::uint8_t, 16>;
// The token of connection id `cid` under `key`: the first 16 bytes of HMAC-SHA256(key, cid).
StatelessResetToken stateless_reset_token(const ResetKey& key, ByteView cid);
// Writes into `out` a stateless reset answering `trigger`, a short-header packet naming a
// connection id (kCidLength bytes) of ours we no longer know. The reset is shorter than the
// trigger (so two endpoints cannot keep resetting each other) and at most 43 bytes. Returns its
// size, or 0 when none may be sent (a long header, or a trigger of 21 bytes or less).
std::size_t write_stateless_reset(std::span<std::uint8_t> out, const ResetKey& key,
                                  ByteView trigger, Rng& rng);

}  // namespace peat::transport::quic
