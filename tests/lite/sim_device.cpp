#include "lite/sim_device.hpp"

#include <algorithm>

namespace peat::lite::testing {

Bytes SimDevice::packet(MessageType type, ByteView payload, std::uint16_t flags, bool seq) {
  return std::move(
      encode_packet({type, flags, config_.node_id, seq ? ++seq_ : 0u}, payload).value());
}

Bytes SimDevice::announce() {
  return packet(MessageType::kAnnounce, encode_announce(config_.capabilities));
}
Bytes SimDevice::heartbeat() {
  return packet(MessageType::kHeartbeat, {});
}
Bytes SimDevice::leave() {
  return packet(MessageType::kLeave, {});
}
Bytes SimDevice::data(const DataPayload& payload) {
  auto [bytes, flags] = encode_data(payload);
  return packet(MessageType::kData, bytes, flags);
}
Bytes SimDevice::document(const DocumentEnvelope& doc) {
  return packet(MessageType::kDocument, encode_document(doc).value());
}
Bytes SimDevice::query(const QueryRequest& q) {
  return packet(MessageType::kQuery, encode_query(q).value());
}

void SimDevice::reset_transfer() {
  offer_.reset();
  received_ = 0;
  slot_.clear();
  state_ = OtaState::kIdle;
}

std::vector<Bytes> SimDevice::handle(ByteView datagram) {
  std::vector<Bytes> out;
  auto p = decode_packet(datagram);
  if (!p || p->header.node_id == config_.node_id) return out;  // firmware ignores its own id
  switch (p->header.type) {
    case MessageType::kOtaOffer:
      on_offer(p->payload, out);
      break;
    case MessageType::kOtaData:
      on_data(p->payload, out);
      break;
    case MessageType::kOtaComplete:
      on_complete(p->payload, out);
      break;
    case MessageType::kOtaAbort: {
      auto m = decode_ota_abort(p->payload);
      if (m && m->session_id == session_ && state_ != OtaState::kReadyToReboot) {
        aborts_seen_++;
        // Keep the partial image when resuming is supported; the firmware drops it.
        if (!config_.resume) reset_transfer();
        state_ = OtaState::kIdle;
      }
      break;
    }
    case MessageType::kData:
    case MessageType::kDocument:
      commands_.push_back(std::move(*p));
      break;
    default:
      break;
  }
  return out;
}

void SimDevice::on_offer(ByteView payload, std::vector<Bytes>& out) {
  offers_seen_++;
  auto reject = [&](OtaResultCode code) {
    last_result_ = static_cast<std::uint8_t>(code);
    // Firmware answers a rejected offer with session id 0.
    out.push_back(packet(MessageType::kOtaResult,
                         encode_ota_result({0, static_cast<std::uint8_t>(code)}), 0, false));
  };
  auto offer = decode_ota_offer(payload);
  if (!offer || offer->firmware_size == 0 || offer->total_chunks == 0 ||
      offer->firmware_size > kOtaMaxFirmwareSize || offer->chunk_size > kOtaChunkDataSize) {
    return reject(OtaResultCode::kInvalidOffer);
  }
  if (config_.ota_pubkey) {
    if (!offer->signature) return reject(OtaResultCode::kSignatureRequired);
    if (!security::verify_signature(*config_.ota_pubkey, offer->sha256, *offer->signature)) {
      return reject(OtaResultCode::kSignatureInvalid);
    }
  }
  bool same_image = offer_ && offer_->sha256 == offer->sha256 &&
                    offer_->firmware_size == offer->firmware_size &&
                    state_ != OtaState::kReadyToReboot;
  if (!(config_.resume && same_image)) {
    reset_transfer();
    offer_ = *offer;
  }
  session_ = offer->session_id;
  state_ = received_ > 0 ? OtaState::kReceiving : OtaState::kWaitingForData;
  last_resume_ = received_;
  out.push_back(
      packet(MessageType::kOtaAccept, encode_ota_accept({session_, received_}), 0, false));
}

void SimDevice::on_data(ByteView payload, std::vector<Bytes>& out) {
  auto m = decode_ota_data(payload);
  if (!m || (state_ != OtaState::kWaitingForData && state_ != OtaState::kReceiving)) return;
  auto abort = [&] {
    out.push_back(packet(MessageType::kOtaAbort,
                         encode_ota_abort({m->session_id, kOtaAbortSessionMismatch}), 0, false));
    reset_transfer();
  };
  if (m->session_id != session_) return abort();
  if (m->chunk_num < received_) {  // duplicate: acknowledge again, write nothing
    out.push_back(packet(MessageType::kOtaAck, encode_ota_ack({session_, m->chunk_num}), 0, false));
    return;
  }
  if (slot_.size() + m->data.size() > offer_->firmware_size) return abort();
  slot_.insert(slot_.end(), m->data.begin(), m->data.end());
  received_ = static_cast<std::uint16_t>(m->chunk_num + 1);
  chunks_written_++;
  state_ = OtaState::kReceiving;
  out.push_back(packet(MessageType::kOtaAck, encode_ota_ack({session_, m->chunk_num}), 0, false));
}

void SimDevice::on_complete(ByteView payload, std::vector<Bytes>& out) {
  auto session = decode_ota_complete(payload);
  if (!session) return;
  auto result = [&](std::uint16_t sid, OtaResultCode code) {
    last_result_ = static_cast<std::uint8_t>(code);
    out.push_back(packet(MessageType::kOtaResult,
                         encode_ota_result({sid, static_cast<std::uint8_t>(code)}), 0, false));
  };
  if (state_ == OtaState::kReadyToReboot && config_.idempotent_complete && *session == session_) {
    return result(session_, OtaResultCode::kSuccess);
  }
  if (state_ != OtaState::kReceiving) return result(*session, OtaResultCode::kFlashError);
  if (*session != session_) return result(*session, OtaResultCode::kInvalidOffer);
  if (Sha256::digest(slot_) != offer_->sha256) {
    reset_transfer();
    return result(*session, OtaResultCode::kHashMismatch);
  }
  state_ = OtaState::kReadyToReboot;
  installed_version_ = offer_->version_text();
  result(session_, OtaResultCode::kSuccess);
}

}  // namespace peat::lite::testing
