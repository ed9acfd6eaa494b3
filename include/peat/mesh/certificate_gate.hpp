// CertificateGate: Layer-2 admission of peers on the sync channel (docs/certificates.md).
//
// A peer that passed the QUIC handshake (and the formation gate) is admitted to document sync
// only when the bundle holds a valid, unexpired, unrevoked certificate chaining to a trusted
// authority whose subject is the peer's QUIC public key — the key the peer proved in the
// handshake (the Rust gate compares the endpoint key with subjects issued for the device key,
// so it never matches). Bootstrapping: on connect each side presents its own certificate in a
// control message, so a freshly enrolled node is admitted before its certificate has synced.
//
// Sans-I/O: the owner feeds connections, control messages, sync messages and the time, and acts
// on the decisions (start sync, replay held messages, send a Refused message and close).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/security/certificate.hpp"
#include "peat/security/trust.hpp"
#include "peat/transport/transport.hpp"

namespace peat::mesh {

// Control message of the gate (Channel::kControl): "PCG1" ‖ type u8 ‖ body.
//   kPresent: body = the sender's certificate (wire form); empty = the sender has none.
//   kRefused: body = UTF-8 reason, at most kMaxRefusalReason bytes.
inline constexpr std::size_t kMaxGateMessage = 4096;
inline constexpr std::size_t kMaxRefusalReason = 1024;

struct GateMessage {
  enum class Type : std::uint8_t { kPresent = 1, kRefused = 2 };
  Type type = Type::kPresent;
  Bytes body;
};

Bytes encode_gate_message(const GateMessage& message);
// True when `bytes` starts with the gate's tag (other kControl users can share the channel).
bool is_gate_message(ByteView bytes);
// SERIALIZATION_ERROR on a wrong tag, unknown type, oversize message or reason, bad UTF-8.
Result<GateMessage> decode_gate_message(ByteView bytes);

struct GateOptions {
  // PEAT_REQUIRE_CERTIFICATES: refuse peers without a valid certificate. Off: warn and allow.
  bool require = false;
  // With `require`, how long a peer whose certificate is unknown has to present one.
  UnixMillis presentation_timeout_ms = 5000;
  // Sync messages held (per peer) while its certificate is checked; more are dropped.
  std::size_t max_held_messages = 256;
  std::size_t max_held_bytes = 4 * 1024 * 1024;
};

enum class GateVerdict : std::uint8_t {
  kPending,             // waiting for the peer's certificate (require only)
  kAdmitted,            // valid certificate for the peer's QUIC key
  kAdmittedUnverified,  // no valid certificate, allowed because certificates are not required
  kRefused,             // close the connection with `reason`
};
const char* to_string(GateVerdict verdict);

struct GateDecision {
  transport::PeerId peer;
  GateVerdict verdict = GateVerdict::kPending;
  std::string reason;  // why the certificate is not valid (empty when kAdmitted)
  GateVerdict previous = GateVerdict::kPending;  // the peer's verdict before this decision
  bool changed = false;                          // verdict != previous (always true on connect)
};

class CertificateGate {
 public:
  // `bundle` must outlive the gate; the gate adds presented certificates to it.
  CertificateGate(security::CertificateBundle& bundle, GateOptions options);

  const GateOptions& options() const { return options_; }

  // Our own certificate (presented to every peer); none: we present an empty one.
  void set_own_certificate(std::optional<security::MeshCertificate> cert);
  const std::optional<security::MeshCertificate>& own_certificate() const { return own_; }
  // The kPresent message to send to a peer when it connects.
  Bytes presentation() const;

  // The peer finished the handshake with `key`. kAdmitted when the bundle already validates
  // it; else kAdmittedUnverified (not required) or kPending (required).
  GateDecision on_connected(const transport::PeerId& peer, const security::PublicKeyBytes& key,
                            UnixMillis now_ms);
  // A gate control message from a connected peer. kPresent: a certificate whose subject is the
  // peer's key is added to the bundle (full chain check) and re-evaluated; anything else keeps
  // the current verdict, or refuses a pending peer (require) with the reason. kRefused: the
  // peer refused us; the decision is kRefused with the peer's reason (close the connection).
  GateDecision on_control(const transport::PeerId& peer, ByteView message, UnixMillis now_ms);
  // Pending peers past the presentation timeout: kRefused.
  std::vector<GateDecision> on_timer(UnixMillis now_ms);
  // After the bundle changed (revocation, reload, expiry): every peer re-checked; admitted ones
  // that no longer validate are refused (require) or downgraded to unverified; unverified or
  // pending ones that now validate are admitted. Only changed decisions are returned.
  std::vector<GateDecision> recheck(UnixMillis now_ms);
  void on_disconnected(const transport::PeerId& peer);

  enum class Inbound : std::uint8_t { kDeliver, kHeld, kDropped };
  // A sync message: deliver it (admitted), hold it until the verdict (pending, within the
  // limits), or drop it (refused, unknown peer, limits exceeded).
  Inbound on_sync_message(const transport::PeerId& peer, Bytes message);
  // The messages held for `peer` (in arrival order); clears them. Call after kAdmitted*.
  std::vector<Bytes> take_held(const transport::PeerId& peer);

  bool admitted(const transport::PeerId& peer) const;
  std::optional<GateVerdict> verdict(const transport::PeerId& peer) const;
  // The earliest presentation deadline of a pending peer.
  std::optional<UnixMillis> next_deadline() const;

 private:
  struct PeerState {
    security::PublicKeyBytes key{};
    GateVerdict verdict = GateVerdict::kPending;
    UnixMillis deadline_ms = 0;
    std::vector<Bytes> held;
    std::size_t held_bytes = 0;
  };
  GateDecision evaluate(const transport::PeerId& peer, PeerState& state, UnixMillis now_ms,
                        const std::string& presented_error);

  security::CertificateBundle& bundle_;
  GateOptions options_;
  std::optional<security::MeshCertificate> own_;
  std::map<transport::PeerId, PeerState> peers_;
};

}  // namespace peat::mesh
