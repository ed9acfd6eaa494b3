#include "peat/security/formation_key.hpp"

#include "peat/security/errors.hpp"
#include "peat/security/hkdf.hpp"
#include "security/wire.hpp"

namespace peat::security {

namespace {
constexpr std::string_view kFormationInfo = "peat-protocol-v1-formation";

std::string_view trim(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

Error auth_failed(std::string message) {
  return security_error(errc::kAuthFailed, std::move(message));
}
}  // namespace

FormationKey::FormationKey(std::string formation_id, const SecretKey& shared_secret)
    : formation_id_(std::move(formation_id)),
      hmac_key_(hkdf32(as_bytes(formation_id_), shared_secret.view(), as_bytes(kFormationInfo))) {}

Result<FormationKey> FormationKey::from_base64(std::string formation_id, std::string_view secret) {
  auto decoded = peat::from_base64(trim(secret));
  if (!decoded) return auth_failed("Invalid base64 shared secret: " + decoded.error().message);
  SecretBytes raw = SecretBytes::adopt(std::move(*decoded));
  if (auto exact = SecretKey::from(raw.view()))
    return FormationKey(std::move(formation_id), *exact);
  Sha256Digest digest = Sha256::digest(raw.view());
  SecretKey hashed = *SecretKey::from(digest);
  secure_wipe(digest);
  return FormationKey(std::move(formation_id), hashed);
}

std::string FormationKey::generate_secret(Rng& rng) {
  SecretKey secret;
  rng.fill(secret.span());
  return to_base64(secret.view());
}

FormationKey::Challenge FormationKey::create_challenge(Rng& rng) const {
  Challenge c{};
  rng.fill(c.nonce);
  c.expected = respond(c.nonce);
  return c;
}

FormationProof FormationKey::respond(ByteView nonce, ByteView channel_binding) const {
  return hmac_sha256(hmac_key_.view(), {nonce, as_bytes(formation_id_), channel_binding});
}

bool FormationKey::verify_response(ByteView nonce, ByteView response,
                                   ByteView channel_binding) const {
  FormationProof expected = respond(nonce, channel_binding);
  bool ok = constant_time_equal(expected, response);
  secure_wipe(expected);
  return ok;
}

std::string FormationKey::to_string() const {
  return "FormationKey { formation_id: \"" + formation_id_ + "\", hmac_key: [REDACTED] }";
}

Result<Bytes> FormationChallenge::encode() const {
  if (formation_id.size() > 0xFFFF) {
    return detail::serialization("formation id longer than 65535 bytes");
  }
  detail::Writer w;
  w.u16(static_cast<std::uint16_t>(formation_id.size()));
  w.str(formation_id);
  w.bytes(nonce);
  return w.take();
}

Result<FormationChallenge> FormationChallenge::decode(ByteView bytes) {
  detail::Reader r(bytes);
  auto len = r.u16();
  if (!len) return auth_failed("Challenge too short");
  auto id = r.take(*len);
  auto nonce = r.array<kFormationChallengeSize>();
  if (!id || !nonce) return auth_failed("Challenge truncated");
  if (!detail::is_valid_utf8(*id)) return auth_failed("Invalid formation ID: not UTF-8");
  if (r.remaining() != 0) {
    return auth_failed("Challenge has " + std::to_string(r.remaining()) + " trailing bytes");
  }
  return FormationChallenge{std::string(as_chars(*id)), *nonce};
}

Result<FormationChallengeResponse> FormationChallengeResponse::decode(ByteView bytes) {
  if (bytes.size() < kFormationResponseSize) return auth_failed("Response too short");
  if (bytes.size() > kFormationResponseSize) {
    return auth_failed("Response has " + std::to_string(bytes.size() - kFormationResponseSize) +
                       " trailing bytes");
  }
  FormationChallengeResponse r;
  std::copy(bytes.begin(), bytes.end(), r.response.begin());
  return r;
}

}  // namespace peat::security
