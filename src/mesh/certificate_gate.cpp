#include "peat/mesh/certificate_gate.hpp"

#include <algorithm>

#include "peat/common/utf8.hpp"

namespace peat::mesh {

namespace {

constexpr std::uint8_t kTag[4] = {'P', 'C', 'G', '1'};

Error bad_message(const std::string& what) {
  return make_error("SERIALIZATION_ERROR", "gate message: " + what);
}

}  // namespace

Bytes encode_gate_message(const GateMessage& message) {
  Bytes out(kTag, kTag + 4);
  out.push_back(static_cast<std::uint8_t>(message.type));
  out.insert(out.end(), message.body.begin(), message.body.end());
  return out;
}

bool is_gate_message(ByteView bytes) {
  return bytes.size() >= 4 && std::equal(kTag, kTag + 4, bytes.begin());
}

Result<GateMessage> decode_gate_message(ByteView bytes) {
  if (bytes.size() > kMaxGateMessage)
    return bad_message(std::to_string(bytes.size()) + " bytes (max " +
                       std::to_string(kMaxGateMessage) + ")");
  if (bytes.size() < 5 || !is_gate_message(bytes)) return bad_message("missing PCG1 header");
  GateMessage m;
  m.body.assign(bytes.begin() + 5, bytes.end());
  switch (bytes[4]) {
    case 1:
      m.type = GateMessage::Type::kPresent;
      break;
    case 2:
      m.type = GateMessage::Type::kRefused;
      if (m.body.size() > kMaxRefusalReason) return bad_message("reason too long");
      if (!is_valid_utf8(ByteView(m.body))) return bad_message("reason is not UTF-8");
      break;
    default:
      return bad_message("unknown type " + std::to_string(bytes[4]));
  }
  return m;
}

const char* to_string(GateVerdict verdict) {
  switch (verdict) {
    case GateVerdict::kPending:
      return "pending";
    case GateVerdict::kAdmitted:
      return "admitted";
    case GateVerdict::kAdmittedUnverified:
      return "admitted-unverified";
    case GateVerdict::kRefused:
      return "refused";
  }
  return "unknown";
}

CertificateGate::CertificateGate(security::CertificateBundle& bundle, GateOptions options)
    : bundle_(bundle), options_(options) {}

void CertificateGate::set_own_certificate(std::optional<security::MeshCertificate> cert) {
  own_ = std::move(cert);
}

Bytes CertificateGate::presentation() const {
  GateMessage m{GateMessage::Type::kPresent, {}};
  if (own_) {
    auto wire = own_->encode();
    if (wire) m.body = std::move(wire.value());
  }
  return encode_gate_message(m);
}

GateDecision CertificateGate::evaluate(const transport::PeerId& peer, PeerState& state,
                                       UnixMillis now_ms, const std::string& presented_error) {
  GateDecision d{peer, state.verdict, {}, state.verdict, false};
  auto valid = bundle_.validate_peer(state.key, now_ms);
  GateVerdict next = state.verdict;
  if (valid) {
    next = GateVerdict::kAdmitted;
  } else {
    d.reason = presented_error.empty() ? valid.error().to_string() : presented_error;
    // A revoked peer is refused outright when required, whatever it presents.
    if (!options_.require) {
      next = GateVerdict::kAdmittedUnverified;
    } else if (state.verdict == GateVerdict::kAdmitted || !presented_error.empty() ||
               bundle_.is_revoked(state.key) || now_ms >= state.deadline_ms) {
      next = GateVerdict::kRefused;
    } else {
      next = GateVerdict::kPending;
    }
  }
  d.changed = next != state.verdict;
  d.verdict = next;
  state.verdict = next;
  if (next == GateVerdict::kRefused) {
    state.held.clear();
    state.held_bytes = 0;
  }
  return d;
}

GateDecision CertificateGate::on_connected(const transport::PeerId& peer,
                                           const security::PublicKeyBytes& key, UnixMillis now_ms) {
  PeerState& s = peers_[peer];
  s = PeerState{};
  s.key = key;
  s.deadline_ms = now_ms + options_.presentation_timeout_ms;
  auto d = evaluate(peer, s, now_ms, {});
  d.changed = true;
  return d;
}

GateDecision CertificateGate::on_control(const transport::PeerId& peer, ByteView message,
                                         UnixMillis now_ms) {
  auto it = peers_.find(peer);
  if (it == peers_.end())
    return {peer, GateVerdict::kRefused, "not connected", GateVerdict::kRefused, false};
  PeerState& s = it->second;
  auto m = decode_gate_message(message);
  if (!m) {
    // A malformed gate message is ignored; the presentation timeout still applies.
    return {peer, s.verdict, m.error().to_string(), s.verdict, false};
  }
  if (m->type == GateMessage::Type::kRefused) {
    // The peer will close; stop syncing with it at once.
    GateVerdict previous = s.verdict;
    s.verdict = GateVerdict::kRefused;
    s.held.clear();
    s.held_bytes = 0;
    return {peer, GateVerdict::kRefused,
            "refused by peer: " + std::string(as_chars(ByteView(m->body))), previous,
            previous != GateVerdict::kRefused};
  }
  if (s.verdict == GateVerdict::kRefused) return {peer, s.verdict, {}, s.verdict, false};
  std::string presented_error;
  if (m->body.empty()) {
    if (!bundle_.validate_peer(s.key, now_ms))
      presented_error = "peer presented no certificate and none is known for its key";
  } else if (auto cert = security::MeshCertificate::decode(m->body); !cert) {
    presented_error = "presented certificate: " + cert.error().to_string();
  } else if (cert->subject_public_key != s.key) {
    presented_error = "presented certificate is for another key (subject " +
                      to_hex(ByteView(cert->subject_public_key)) + ", QUIC key " +
                      to_hex(ByteView(s.key)) + ")";
  } else if (auto added = bundle_.add_certificate(*cert, now_ms); !added) {
    // Already known and valid is fine (the add refuses a duplicate only if it is bad).
    presented_error = "presented certificate: " + added.error().to_string();
  }
  if (!presented_error.empty() && bundle_.validate_peer(s.key, now_ms)) presented_error.clear();
  return evaluate(peer, s, now_ms, presented_error);
}

std::vector<GateDecision> CertificateGate::on_timer(UnixMillis now_ms) {
  std::vector<GateDecision> out;
  for (auto& [peer, s] : peers_) {
    if (s.verdict != GateVerdict::kPending || now_ms < s.deadline_ms) continue;
    auto d = evaluate(peer, s, now_ms, {});
    if (d.verdict == GateVerdict::kRefused)
      d.reason = "no valid certificate presented within " +
                 std::to_string(options_.presentation_timeout_ms) + " ms (" + d.reason + ")";
    if (d.changed) out.push_back(std::move(d));
  }
  return out;
}

std::vector<GateDecision> CertificateGate::recheck(UnixMillis now_ms) {
  std::vector<GateDecision> out;
  for (auto& [peer, s] : peers_) {
    if (s.verdict == GateVerdict::kRefused) continue;
    auto d = evaluate(peer, s, now_ms, {});
    if (d.changed) out.push_back(std::move(d));
  }
  return out;
}

void CertificateGate::on_disconnected(const transport::PeerId& peer) {
  peers_.erase(peer);
}

CertificateGate::Inbound CertificateGate::on_sync_message(const transport::PeerId& peer,
                                                          Bytes message) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return Inbound::kDropped;
  PeerState& s = it->second;
  switch (s.verdict) {
    case GateVerdict::kAdmitted:
    case GateVerdict::kAdmittedUnverified:
      return Inbound::kDeliver;
    case GateVerdict::kRefused:
      return Inbound::kDropped;
    case GateVerdict::kPending:
      break;
  }
  if (s.held.size() >= options_.max_held_messages ||
      s.held_bytes + message.size() > options_.max_held_bytes)
    return Inbound::kDropped;
  s.held_bytes += message.size();
  s.held.push_back(std::move(message));
  return Inbound::kHeld;
}

std::vector<Bytes> CertificateGate::take_held(const transport::PeerId& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return {};
  std::vector<Bytes> out = std::move(it->second.held);
  it->second.held.clear();
  it->second.held_bytes = 0;
  return out;
}

bool CertificateGate::admitted(const transport::PeerId& peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && (it->second.verdict == GateVerdict::kAdmitted ||
                                it->second.verdict == GateVerdict::kAdmittedUnverified);
}

std::optional<GateVerdict> CertificateGate::verdict(const transport::PeerId& peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return std::nullopt;
  return it->second.verdict;
}

std::optional<UnixMillis> CertificateGate::next_deadline() const {
  std::optional<UnixMillis> out;
  for (const auto& [peer, s] : peers_)
    if (s.verdict == GateVerdict::kPending && (!out || s.deadline_ms < *out)) out = s.deadline_ms;
  return out;
}

}  // namespace peat::mesh
