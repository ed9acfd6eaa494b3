#include "peat/security/handshake.hpp"

#include "peat/security/errors.hpp"
#include "security/wire.hpp"

namespace peat::security {

namespace {
Error auth_failed(std::string message) {
  return security_error(errc::kAuthFailed, std::move(message));
}
Error expired() {
  return security_error(errc::kChallengeExpired, "formation authentication timed out after 30 s");
}
bool timed_out(Instant started, Instant now) {
  return now - started > kFormationAuthTimeout;
}
}  // namespace

Result<Bytes> frame(ByteView body) {
  if (body.size() > UINT32_MAX) return detail::serialization("frame body over 4 GiB");
  detail::Writer w;
  w.u32(static_cast<std::uint32_t>(body.size()));
  w.bytes(body);
  return w.take();
}

std::optional<std::uint32_t> FrameAssembler::announced_length() const {
  if (buffer_.size() < 4) return std::nullopt;
  detail::Reader r(buffer_);
  return r.u32();
}

Result<std::optional<Bytes>> FrameAssembler::push(ByteView data) {
  auto too_large = [this](std::uint32_t len) {
    return detail::serialization("frame too large: " + std::to_string(len) + " bytes (max " +
                                 std::to_string(max_body_) + ")");
  };
  // At most two rounds: the 4-byte prefix, then the body. Bytes past the frame are not ours.
  for (int round = 0; round < 2 && !data.empty(); ++round) {
    auto len = announced_length();
    if (len && *len > max_body_) return too_large(*len);
    std::size_t want = len ? 4 + std::size_t{*len} : 4;
    std::size_t n = std::min(data.size(), want - std::min(want, buffer_.size()));
    buffer_.insert(buffer_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    data = data.subspan(n);
  }
  auto len = announced_length();
  if (len && *len > max_body_) return too_large(*len);
  if (len && buffer_.size() == 4 + std::size_t{*len}) {
    return std::optional<Bytes>(Bytes(buffer_.begin() + 4, buffer_.end()));
  }
  return std::optional<Bytes>();
}

// --- Formation ------------------------------------------------------------------------------

Result<FormationAcceptor> FormationAcceptor::start(const FormationKey& key, Rng& rng, Instant now,
                                                   ByteView channel_binding) {
  FormationNonce nonce;
  rng.fill(nonce);
  auto body = FormationChallenge{key.formation_id(), nonce}.encode();
  if (!body) return body.error();
  if (body->size() > kMaxChallengeFrame) {
    return detail::serialization("formation id too long for a challenge frame");
  }
  return FormationAcceptor(key, nonce, *frame(*body), now, channel_binding);
}

Result<std::optional<FormationAuthResult>> FormationAcceptor::on_data(ByteView data, Instant now) {
  if (result_) return result_;
  if (timed_out(started_, now)) return expired();
  auto body = response_.push(data);
  if (!body) return auth_failed(body.error().message);
  if (!*body) return std::optional<FormationAuthResult>();
  auto response = FormationChallengeResponse::decode(**body);
  bool ok = response && key_.verify_response(nonce_, response->response, binding_);
  result_ = ok ? FormationAuthResult::Accepted : FormationAuthResult::Rejected;
  return result_;
}

Result<FormationConnector::Output> FormationConnector::on_data(ByteView data, Instant now) {
  Output out;
  if (timed_out(started_, now)) return expired();
  if (!responded_) {
    // The verdict cannot share a read with the challenge: it only comes after our response.
    auto body = challenge_.push(data);
    if (!body) return auth_failed(body.error().message);
    if (!*body) return out;
    auto challenge = FormationChallenge::decode(**body);
    if (!challenge) return auth_failed("invalid challenge: " + challenge.error().message);
    if (challenge->formation_id != key_.formation_id()) {
      return auth_failed("formation ID mismatch: expected " + key_.formation_id() + ", got " +
                         challenge->formation_id);
    }
    auto response =
        frame(FormationChallengeResponse{key_.respond(challenge->nonce, binding_)}.encode());
    out.send = std::move(*response);
    responded_ = true;
    return out;
  }
  if (!data.empty()) out.result = formation_auth_result_from_byte(data[0]);
  return out;
}

// --- Enrollment -----------------------------------------------------------------------------

Result<Bytes> enrollment_request_frame(const EnrollmentRequest& request) {
  auto body = request.encode();
  if (!body) return body.error();
  if (body->size() > kMaxEnrollmentMessage) {
    return detail::serialization("request too large: " + std::to_string(body->size()) +
                                 " bytes (max 65536)");
  }
  return frame(*body);
}

Result<EnrollmentResponse> parse_enrollment_response_frame(ByteView stream) {
  FrameAssembler assembler(kMaxEnrollmentMessage);
  auto body = assembler.push(stream);
  if (!body) return body.error();
  if (!*body) return detail::serialization("enrollment response incomplete");
  if (stream.size() != 4 + (*body)->size()) {
    return detail::serialization("data after the enrollment response");
  }
  return EnrollmentResponse::decode(**body);
}

Result<Bytes> serve_enrollment(StaticEnrollmentService& service, ByteView stream,
                               UnixMillis now_ms) {
  auto respond = [](const EnrollmentResponse& r) -> Result<Bytes> {
    auto body = r.encode();
    if (!body) return body.error();
    return frame(*body);
  };
  if (stream.size() < 4) return detail::serialization("enrollment request incomplete");
  detail::Reader r(stream);
  std::uint32_t len = *r.u32();
  if (len > kMaxEnrollmentMessage) {
    return respond(EnrollmentResponse::denied(
        "request too large: " + std::to_string(len) + " bytes (max 65536)", now_ms));
  }
  auto body = r.take(len);
  if (!body) return detail::serialization("enrollment request incomplete");
  auto request = EnrollmentRequest::decode(*body);
  if (!request) {
    return respond(
        EnrollmentResponse::denied("malformed request: " + request.error().message, now_ms));
  }
  auto response = service.process_request(*request, now_ms);
  if (!response) {
    return respond(
        EnrollmentResponse::denied("enrollment error: " + response.error().to_string(), now_ms));
  }
  return respond(*response);
}

}  // namespace peat::security
