// QUIC transport configuration: the node identity (Ed25519, also the TLS raw public key), the
// ALPN of each application protocol, and the tunables of a connection.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/transport/transport.hpp"

namespace peat::transport::quic {

using PublicKey = std::array<std::uint8_t, 32>;

// The node's Ed25519 key: the 32-byte seed (RFC 8032 private key) and its public key. It is the
// same key as the device identity; the TLS handshake presents it as an RFC 7250 raw public key.
struct Identity {
  std::array<std::uint8_t, 32> seed{};
  PublicKey public_key{};
};

// Device id of a public key: lowercase hex of the first 16 bytes of SHA-256(public key).
PeerId peer_id_from_public_key(const PublicKey& public_key);

// The static key a node's stateless reset tokens are made with (RFC 9000 §10.3.2). Derived from
// the identity (HMAC-SHA256 keyed with the seed), so the node still knows it after a restart
// and can reset the connections its earlier run left behind.
using ResetKey = std::array<std::uint8_t, 32>;
ResetKey reset_key_for(const Identity& identity);

// One ALPN per application protocol.
inline constexpr std::string_view kAlpnSync = "peat/sync/1";
inline constexpr std::string_view kAlpnEnroll = "peat/enroll/1";
inline constexpr std::string_view kAlpnBlobs = "peat/blobs/1";

// The channel an ALPN stands for; nullopt for an ALPN peat does not speak.
std::optional<Channel> channel_for_alpn(std::string_view alpn);
std::string_view alpn_for_channel(Channel channel);
// Which channels a connection negotiated with `alpn` may carry. A member link (sync) carries
// sync, blobs and control; an enrollment link only enrollment and control; a blobs link only
// blobs and control.
bool channel_allowed(std::string_view alpn, Channel channel);

// Decides whether an authenticated peer may connect (the formation gate). Runs during the TLS
// handshake, after the peer proved possession of `public_key`; false refuses the connection.
// `alpn` is the protocol the connection negotiated (one of the accepted ALPNs), so one endpoint
// can admit any key on peat/enroll/1 while gating peat/sync/1.
using AdmitFn =
    std::function<bool(const PeerId& peer, const PublicKey& public_key, std::string_view alpn)>;

struct QuicSettings {
  // The connection closes after this long without any packet from the peer.
  Duration idle_timeout = std::chrono::seconds(30);
  // Send a PING when nothing else was sent for this long (0 = off). Keeps an idle link alive.
  Duration keep_alive = std::chrono::seconds(10);
  Duration handshake_timeout = std::chrono::seconds(10);
  // Flow-control windows: the initial ones are advertised in the transport parameters; ngtcp2
  // grows them (auto-tuning) up to the max_* values as the measured bandwidth-delay product needs.
  std::uint64_t initial_stream_window = 256 * 1024;
  std::uint64_t initial_connection_window = 1024 * 1024;
  std::uint64_t max_stream_window = 16 * 1024 * 1024;
  std::uint64_t max_window = 24 * 1024 * 1024;
  // Concurrent message streams the peer may open.
  std::uint64_t max_streams = 256;
  // Largest message accepted on a stream (bigger frames close the connection).
  std::size_t max_message_size = 64 * 1024 * 1024;
  // send() answers WOULD_BLOCK while more than this many bytes are queued and not yet acknowledged.
  std::size_t send_queue_limit = 16 * 1024 * 1024;
  // Offer the QUIC DATAGRAM extension (RFC 9221).
  bool datagrams = true;
  // UDP payload size used when both ends are loopback addresses (the packets never leave the
  // host, whose loopback MTU is 64 KiB), instead of the PMTUD-probed maximum of 1452 bytes.
  // Larger packets mean fewer packets, ACKs and syscalls per byte. 0 keeps PMTUD everywhere.
  std::size_t loopback_udp_payload = 65000;
};

}  // namespace peat::transport::quic
