// OTA firmware push to Peat-Lite devices (stop-and-wait over the Lite protocol).
//
// OtaSender is the sans-I/O state machine, one session per peer: offer -> accept (with resume
// chunk) -> one DATA chunk at a time, each acknowledged -> COMPLETE -> RESULT. Anything
// unanswered is resent after `retransmit_after` (500 ms), at most `max_retries` (5) times per
// item; a session older than `session_timeout` (5 min) fails. It takes `now` and returns the
// packets to send; it never reads a clock.
//
// OtaService runs an OtaSender on a LiteBridge and an EventLoop (the node's start_ota/ota_status).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "peat/broker/backend.hpp"
#include "peat/common/event_loop.hpp"
#include "peat/lite/bridge.hpp"
#include "peat/lite/protocol.hpp"
#include "peat/security/keypair.hpp"

namespace peat::lite {

using broker::OtaStarted;
using broker::OtaStatus;

// S10: the firmware signing key of a node = from_seed(formation seed, "peat-ota-signing-v1").
// Its public key (hex) is what device builds bake in as OTA_SIGNING_PUBKEY.
security::DeviceKeypair ota_signing_key(ByteView formation_seed);

struct OtaConfig {
  Duration retransmit_after = std::chrono::milliseconds(500);
  std::uint32_t max_retries = 5;
  Duration session_timeout = std::chrono::minutes(5);
};

// An image ready to push: digest, chunking and the optional signature over the digest.
struct FirmwareImage {
  Bytes data;
  Sha256Digest sha256{};
  std::string version;  // at most 15 bytes go on the wire
  std::uint16_t total_chunks = 0;
  std::optional<security::SignatureBytes> signature;

  // BAD_REQUEST when empty or larger than kOtaMaxFirmwareSize (3 MiB).
  static Result<FirmwareImage> create(Bytes data, std::string version,
                                      const security::DeviceKeypair* signing_key);
  ByteView chunk(std::uint16_t n) const;
};

// A packet for one peer.
struct OtaOutgoing {
  PeerId peer;
  Bytes packet;
};

class OtaSender {
 public:
  OtaSender(std::uint32_t local_node_id, OtaConfig config = {},
            std::optional<security::DeviceKeypair> signing_key = std::nullopt);

  // Starts (or replaces) the session for `peer` and emits the offer.
  Result<OtaStarted> start(const PeerId& peer, Bytes firmware, std::string version, Instant now,
                           std::vector<OtaOutgoing>& out);
  // OTA_ACCEPT / OTA_ACK / OTA_RESULT / OTA_ABORT payloads from `peer`.
  void on_message(const PeerId& peer, MessageType type, ByteView payload, Instant now,
                  std::vector<OtaOutgoing>& out);
  // Retransmissions and timeouts.
  void tick(Instant now, std::vector<OtaOutgoing>& out);
  // Cancels a running session: ABORT(user cancel) and "failed: cancelled".
  Status abort(const PeerId& peer, Instant now, std::vector<OtaOutgoing>& out);

  std::optional<OtaStatus> status(const PeerId& peer, Instant now) const;
  // When tick() next has work (nullopt: no running session).
  std::optional<Instant> next_deadline() const;
  bool active(const PeerId& peer) const;

 private:
  enum class Phase : std::uint8_t { kOffered, kTransferring, kWaitingResult, kComplete, kFailed };
  struct Session {
    std::uint16_t id = 0;
    FirmwareImage image;
    Phase phase = Phase::kOffered;
    std::uint16_t current_chunk = 0;
    std::uint16_t chunks_acked = 0;
    std::uint32_t retries = 0;
    Instant started_at{};
    Instant last_sent{};
    Instant finished_at{};
    std::string failure;
  };

  Bytes packet(MessageType type, ByteView payload) const;
  void send_current(const PeerId& peer, Session& s, Instant now, std::vector<OtaOutgoing>& out);
  void fail(const PeerId& peer, Session& s, std::string reason, std::optional<std::uint8_t> abort,
            Instant now, std::vector<OtaOutgoing>& out);

  std::uint32_t node_id_;
  OtaConfig config_;
  std::optional<security::DeviceKeypair> signing_key_;
  std::uint16_t next_session_ = 1;
  std::map<PeerId, Session> sessions_;
};

// OtaSender wired to a LiteBridge: the node's BrokerBackend::start_ota / ota_status call
// start() / status(). Must be used on the loop thread; the bridge must outlive the service (the
// service installs itself as the bridge's OTA handler and removes itself when destroyed).
class OtaService {
 public:
  OtaService(EventLoop& loop, LiteBridge& bridge, OtaConfig config = {},
             std::optional<security::DeviceKeypair> signing_key = std::nullopt);
  ~OtaService();
  OtaService(const OtaService&) = delete;
  OtaService& operator=(const OtaService&) = delete;

  // NOT_FOUND: the peer has not been heard; BAD_REQUEST: empty or > 3 MiB image;
  // NOT_STARTED / SEND_FAILED from the bridge.
  Result<OtaStarted> start(const std::string& peer_id, std::string firmware, std::string version);
  std::optional<OtaStatus> status(const std::string& peer_id) const;
  Status abort(const std::string& peer_id);

 private:
  void flush(std::vector<OtaOutgoing>& out);
  void reschedule();

  EventLoop& loop_;
  LiteBridge& bridge_;
  OtaSender sender_;
  std::optional<TimerId> timer_;
};

}  // namespace peat::lite
