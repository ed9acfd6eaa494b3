#include "peat/lite/ota.hpp"

#include <algorithm>

namespace peat::lite {

using namespace std::chrono_literals;

security::DeviceKeypair ota_signing_key(ByteView formation_seed) {
  return security::DeviceKeypair::from_seed(formation_seed, "peat-ota-signing-v1");
}

Result<FirmwareImage> FirmwareImage::create(Bytes data, std::string version,
                                            const security::DeviceKeypair* signing_key) {
  if (data.empty()) return make_error("BAD_REQUEST", "firmware image is empty");
  if (data.size() > kOtaMaxFirmwareSize) {
    return make_error("BAD_REQUEST", "firmware image of " + std::to_string(data.size()) +
                                         " bytes exceeds the 3 MiB slot");
  }
  FirmwareImage img;
  img.sha256 = Sha256::digest(data);
  img.total_chunks =
      static_cast<std::uint16_t>((data.size() + kOtaChunkDataSize - 1) / kOtaChunkDataSize);
  img.data = std::move(data);
  img.version = std::move(version);
  if (signing_key) img.signature = signing_key->sign(img.sha256);
  return img;
}

ByteView FirmwareImage::chunk(std::uint16_t n) const {
  std::size_t start = std::size_t{n} * kOtaChunkDataSize;
  if (start >= data.size()) return {};
  return ByteView(data).subspan(start, std::min(kOtaChunkDataSize, data.size() - start));
}

OtaSender::OtaSender(std::uint32_t local_node_id, OtaConfig config,
                     std::optional<security::DeviceKeypair> signing_key)
    : node_id_(local_node_id), config_(config), signing_key_(std::move(signing_key)) {}

Bytes OtaSender::packet(MessageType type, ByteView payload) const {
  // OTA payloads are at most 140 bytes (offer) or 454 bytes (data): always fit a packet.
  return std::move(encode_packet({type, 0, node_id_, 0}, payload).value());
}

Result<OtaStarted> OtaSender::start(const PeerId& peer, Bytes firmware, std::string version,
                                    Instant now, std::vector<OtaOutgoing>& out) {
  auto image = FirmwareImage::create(std::move(firmware), std::move(version),
                                     signing_key_ ? &*signing_key_ : nullptr);
  if (!image) return image.error();
  Session s;
  s.id = next_session_++;
  if (next_session_ == 0) next_session_ = 1;
  s.image = std::move(*image);
  s.started_at = now;
  OtaStarted started{s.id, peer, s.image.data.size(), s.image.total_chunks, s.image.version};
  auto& slot = sessions_[peer];
  slot = std::move(s);
  send_current(peer, slot, now, out);
  return started;
}

void OtaSender::send_current(const PeerId& peer, Session& s, Instant now,
                             std::vector<OtaOutgoing>& out) {
  s.last_sent = now;
  switch (s.phase) {
    case Phase::kOffered: {
      OtaOffer offer;
      offer.set_version(s.image.version);
      offer.firmware_size = static_cast<std::uint32_t>(s.image.data.size());
      offer.total_chunks = s.image.total_chunks;
      offer.chunk_size = kOtaChunkDataSize;
      offer.sha256 = s.image.sha256;
      offer.session_id = s.id;
      offer.signature = s.image.signature;
      out.push_back({peer, packet(MessageType::kOtaOffer, encode_ota_offer(offer))});
      break;
    }
    case Phase::kTransferring: {
      auto chunk = s.image.chunk(s.current_chunk);
      OtaData d{s.id, s.current_chunk, Bytes(chunk.begin(), chunk.end())};
      out.push_back({peer, packet(MessageType::kOtaData, encode_ota_data(d).value())});
      break;
    }
    case Phase::kWaitingResult:
      out.push_back({peer, packet(MessageType::kOtaComplete, encode_ota_complete(s.id))});
      break;
    case Phase::kComplete:
    case Phase::kFailed:
      break;
  }
}

void OtaSender::fail(const PeerId& peer, Session& s, std::string reason,
                     std::optional<std::uint8_t> abort, Instant now,
                     std::vector<OtaOutgoing>& out) {
  s.phase = Phase::kFailed;
  s.failure = std::move(reason);
  s.finished_at = now;
  if (abort) {
    out.push_back({peer, packet(MessageType::kOtaAbort, encode_ota_abort({s.id, *abort}))});
  }
}

void OtaSender::on_message(const PeerId& peer, MessageType type, ByteView payload, Instant now,
                           std::vector<OtaOutgoing>& out) {
  auto it = sessions_.find(peer);
  if (it == sessions_.end()) return;
  Session& s = it->second;
  if (s.phase == Phase::kComplete || s.phase == Phase::kFailed) return;
  switch (type) {
    case MessageType::kOtaAccept: {
      auto m = decode_ota_accept(payload);
      // Only the first accept counts: a duplicate arriving mid-transfer must not rewind it.
      if (!m || m->session_id != s.id || s.phase != Phase::kOffered) return;
      s.chunks_acked = std::min(m->resume_chunk, s.image.total_chunks);
      s.current_chunk = s.chunks_acked;
      s.phase =
          s.current_chunk >= s.image.total_chunks ? Phase::kWaitingResult : Phase::kTransferring;
      s.retries = 0;
      send_current(peer, s, now, out);
      break;
    }
    case MessageType::kOtaAck: {
      auto m = decode_ota_ack(payload);
      // Stop-and-wait: only the ACK of the chunk in flight advances (duplicates are stale).
      if (!m || m->session_id != s.id || s.phase != Phase::kTransferring ||
          m->acked_chunk != s.current_chunk) {
        return;
      }
      s.chunks_acked = static_cast<std::uint16_t>(m->acked_chunk + 1);
      s.current_chunk = s.chunks_acked;
      if (s.current_chunk >= s.image.total_chunks) s.phase = Phase::kWaitingResult;
      s.retries = 0;
      send_current(peer, s, now, out);
      break;
    }
    case MessageType::kOtaResult: {
      auto m = decode_ota_result(payload);
      if (!m) return;
      // peat-lite rejects a bad offer with session id 0; while our offer is pending that reply
      // can only be about it, so it fails the session instead of waiting for the retry limit.
      bool offer_rejection = m->session_id == 0 && s.phase == Phase::kOffered;
      if (m->session_id != s.id && !offer_rejection) return;
      if (m->code == static_cast<std::uint8_t>(OtaResultCode::kSuccess)) {
        if (s.phase != Phase::kWaitingResult) return;
        s.phase = Phase::kComplete;
        s.finished_at = now;
        return;
      }
      std::string reason = ota_result_text(m->code);
      if (m->code == static_cast<std::uint8_t>(OtaResultCode::kFlashError) &&
          s.phase == Phase::kWaitingResult && s.retries > 0) {
        reason += " (after a resent COMPLETE: the device may have applied the image)";
      }
      fail(peer, s, std::move(reason), std::nullopt, now, out);
      break;
    }
    case MessageType::kOtaAbort: {
      auto m = decode_ota_abort(payload);
      if (!m || m->session_id != s.id) return;
      fail(peer, s, "peer aborted: reason=" + std::to_string(m->reason), std::nullopt, now, out);
      break;
    }
    default:
      break;
  }
}

void OtaSender::tick(Instant now, std::vector<OtaOutgoing>& out) {
  for (auto& [peer, s] : sessions_) {
    if (s.phase == Phase::kComplete || s.phase == Phase::kFailed) continue;
    if (now - s.started_at >= config_.session_timeout) {
      fail(peer, s, "session timeout", kOtaAbortTimeout, now, out);
      continue;
    }
    if (now - s.last_sent < config_.retransmit_after) continue;
    if (s.retries >= config_.max_retries) {
      std::string reason = s.phase == Phase::kOffered ? "offer not accepted"
                           : s.phase == Phase::kTransferring
                               ? "chunk " + std::to_string(s.current_chunk) + " retry limit"
                               : "no result received";
      fail(peer, s, std::move(reason), kOtaAbortTooManyRetries, now, out);
      continue;
    }
    s.retries++;
    send_current(peer, s, now, out);
  }
}

Status OtaSender::abort(const PeerId& peer, Instant now, std::vector<OtaOutgoing>& out) {
  auto it = sessions_.find(peer);
  if (it == sessions_.end() || !active(peer)) {
    return make_error("NOT_FOUND", "no running OTA session for " + peer);
  }
  fail(peer, it->second, "cancelled", kOtaAbortUserCancel, now, out);
  return {};
}

bool OtaSender::active(const PeerId& peer) const {
  auto it = sessions_.find(peer);
  return it != sessions_.end() && it->second.phase != Phase::kComplete &&
         it->second.phase != Phase::kFailed;
}

std::optional<OtaStatus> OtaSender::status(const PeerId& peer, Instant now) const {
  auto it = sessions_.find(peer);
  if (it == sessions_.end()) return std::nullopt;
  const Session& s = it->second;
  OtaStatus st;
  st.session_id = s.id;
  switch (s.phase) {
    case Phase::kOffered:
      st.state = "offered";
      break;
    case Phase::kTransferring:
      st.state = "transferring";
      break;
    case Phase::kWaitingResult:
      st.state = "waiting_result";
      break;
    case Phase::kComplete:
      st.state = "complete";
      break;
    case Phase::kFailed:
      st.state = "failed: " + s.failure;
      break;
  }
  st.chunks_sent = s.chunks_acked;
  st.total_chunks = s.image.total_chunks;
  st.progress_percent = static_cast<std::uint8_t>(
      s.image.total_chunks == 0 ? 0 : std::uint32_t{s.chunks_acked} * 100 / s.image.total_chunks);
  bool done = s.phase == Phase::kComplete || s.phase == Phase::kFailed;
  auto end = done ? s.finished_at : now;
  st.elapsed_secs = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(end - s.started_at).count());
  return st;
}

std::optional<Instant> OtaSender::next_deadline() const {
  std::optional<Instant> next;
  for (const auto& [peer, s] : sessions_) {
    if (s.phase == Phase::kComplete || s.phase == Phase::kFailed) continue;
    auto t =
        std::min(s.last_sent + config_.retransmit_after, s.started_at + config_.session_timeout);
    if (!next || t < *next) next = t;
  }
  return next;
}

OtaService::OtaService(EventLoop& loop, LiteBridge& bridge, OtaConfig config,
                       std::optional<security::DeviceKeypair> signing_key)
    : loop_(loop), bridge_(bridge), sender_(bridge.node_id(), config, std::move(signing_key)) {
  bridge_.set_ota_handler([this](const PeerId& peer, MessageType type, ByteView payload) {
    std::vector<OtaOutgoing> out;
    sender_.on_message(peer, type, payload, loop_.now(), out);
    flush(out);
    reschedule();
  });
}

OtaService::~OtaService() {
  bridge_.set_ota_handler(nullptr);
  if (timer_) loop_.cancel(*timer_);
}

void OtaService::flush(std::vector<OtaOutgoing>& out) {
  for (const auto& o : out) (void)bridge_.send_packet(o.peer, o.packet);
  out.clear();
}

void OtaService::reschedule() {
  if (timer_) loop_.cancel(*timer_);
  timer_.reset();
  auto deadline = sender_.next_deadline();
  if (!deadline) return;
  auto delay = std::max<Duration>(*deadline - loop_.now(), Duration::zero()) + 1ms;
  timer_ = loop_.call_after(delay, [this] {
    timer_.reset();
    std::vector<OtaOutgoing> out;
    sender_.tick(loop_.now(), out);
    flush(out);
    reschedule();
  });
}

Result<OtaStarted> OtaService::start(const std::string& peer_id, std::string firmware,
                                     std::string version) {
  if (!bridge_.started()) return make_error("NOT_STARTED", "Lite bridge is not started");
  if (!bridge_.peer(peer_id)) return make_error("NOT_FOUND", "unknown Lite peer: " + peer_id);
  std::vector<OtaOutgoing> out;
  auto started = sender_.start(peer_id, Bytes(firmware.begin(), firmware.end()), std::move(version),
                               loop_.now(), out);
  if (!started) return started.error();
  for (const auto& o : out) {
    auto st = bridge_.send_packet(o.peer, o.packet);
    if (!st) {
      std::vector<OtaOutgoing> ignored;
      (void)sender_.abort(peer_id, loop_.now(), ignored);
      return make_error("SEND_FAILED", "failed to send OTA offer: " + st.error().message);
    }
  }
  reschedule();
  return started;
}

std::optional<OtaStatus> OtaService::status(const std::string& peer_id) const {
  return sender_.status(peer_id, loop_.now());
}

Status OtaService::abort(const std::string& peer_id) {
  std::vector<OtaOutgoing> out;
  PEAT_TRY_STATUS(sender_.abort(peer_id, loop_.now(), out));
  flush(out);
  reschedule();
  return {};
}

}  // namespace peat::lite
