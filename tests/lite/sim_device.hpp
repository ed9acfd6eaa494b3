// A simulated Peat-Lite device (the ESP32 side), written from the peat-lite protocol and firmware
// behaviour: ANNOUNCE / HEARTBEAT / telemetry out, and the OTA receiver (offer checks, signature
// check against a baked-in public key, chunk writes with duplicate re-ACK, SHA-256 verification
// at COMPLETE). Sans-I/O: feed it datagrams, it returns its replies.
//
// Two deliberate extensions over today's firmware, both switchable:
// - resume: an offer for the same image (same SHA-256 and size) after an interruption is
//   accepted with resume_chunk = chunks already written (firmware always restarts at 0);
// - idempotent_complete: a repeated COMPLETE after success is answered with success again
//   (firmware answers "flash error" while it reboots into the new image).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "peat/lite/protocol.hpp"
#include "peat/security/keypair.hpp"

namespace peat::lite::testing {

struct SimDeviceConfig {
  std::uint32_t node_id = 0x4D355443;  // "M5TC", the id the firmware hard-codes
  std::uint16_t capabilities = caps::kLite;
  std::optional<security::PublicKeyBytes> ota_pubkey;  // OTA_SIGNING_PUBKEY; none: no check
  bool resume = true;
  bool idempotent_complete = true;
};

class SimDevice {
 public:
  enum class OtaState : std::uint8_t { kIdle, kWaitingForData, kReceiving, kReadyToReboot };

  explicit SimDevice(SimDeviceConfig config = {}) : config_(config) {}

  // Handles one datagram from the full node; returns the packets to send back.
  std::vector<Bytes> handle(ByteView datagram);

  // Packets the device sends on its own.
  Bytes announce();
  Bytes heartbeat();
  Bytes leave();
  Bytes data(const DataPayload& payload);
  Bytes document(const DocumentEnvelope& doc);
  Bytes query(const QueryRequest& q);

  OtaState ota_state() const { return state_; }
  // The image as written to the inactive slot (only the bytes written so far).
  const Bytes& slot() const { return slot_; }
  // Offers, chunk writes (excluding duplicates) and results, for assertions.
  std::uint32_t offers_seen() const { return offers_seen_; }
  std::uint32_t chunks_written() const { return chunks_written_; }
  std::uint16_t last_resume_chunk() const { return last_resume_; }
  std::uint32_t aborts_seen() const { return aborts_seen_; }
  std::optional<std::uint8_t> last_result() const { return last_result_; }
  std::string installed_version() const { return installed_version_; }
  // Telemetry the node sent to the device (DATA / DOCUMENT packets).
  const std::vector<Packet>& received_commands() const { return commands_; }

 private:
  Bytes packet(MessageType type, ByteView payload, std::uint16_t flags = 0, bool seq = true);
  void on_offer(ByteView payload, std::vector<Bytes>& out);
  void on_data(ByteView payload, std::vector<Bytes>& out);
  void on_complete(ByteView payload, std::vector<Bytes>& out);
  void reset_transfer();

  SimDeviceConfig config_;
  std::uint32_t seq_ = 0;
  OtaState state_ = OtaState::kIdle;
  std::optional<OtaOffer> offer_;  // the image being received (kept across interruptions)
  std::uint16_t session_ = 0;
  std::uint16_t received_ = 0;  // chunks written
  Bytes slot_;
  std::uint32_t offers_seen_ = 0;
  std::uint32_t chunks_written_ = 0;
  std::uint32_t aborts_seen_ = 0;
  std::uint16_t last_resume_ = 0;
  std::optional<std::uint8_t> last_result_;
  std::string installed_version_;
  std::vector<Packet> commands_;
};

}  // namespace peat::lite::testing
