#include "peat/security/enrollment.hpp"

#include "peat/security/errors.hpp"
#include "security/wire.hpp"

namespace peat::security {

using detail::serialization;

// --- EnrollmentRequest ----------------------------------------------------------------------

Result<EnrollmentRequest> EnrollmentRequest::create(const DeviceKeypair& subject,
                                                    std::string mesh_id, std::string node_id,
                                                    MeshTier requested_tier, Bytes bootstrap_token,
                                                    UnixMillis timestamp_ms) {
  EnrollmentRequest r;
  r.subject_public_key = subject.public_key_bytes();
  r.mesh_id = std::move(mesh_id);
  r.node_id = std::move(node_id);
  r.requested_tier = requested_tier;
  r.bootstrap_token = std::move(bootstrap_token);
  r.timestamp_ms = timestamp_ms;
  auto body = r.signable_bytes();
  if (!body) return body.error();
  r.signature = subject.sign(*body);
  return r;
}

Result<Bytes> EnrollmentRequest::signable_bytes() const {
  if (mesh_id.size() > kMaxIdLength) return serialization("mesh_id longer than 255 bytes");
  if (node_id.size() > kMaxIdLength) return serialization("node_id longer than 255 bytes");
  if (bootstrap_token.size() > 0xFFFF) return serialization("token longer than 65535 bytes");
  detail::Writer w;
  w.bytes(subject_public_key);
  w.u8(static_cast<std::uint8_t>(mesh_id.size()));
  w.str(mesh_id);
  w.u8(static_cast<std::uint8_t>(node_id.size()));
  w.str(node_id);
  w.u8(static_cast<std::uint8_t>(requested_tier));
  w.u16(static_cast<std::uint16_t>(bootstrap_token.size()));
  w.bytes(bootstrap_token);
  w.u64(timestamp_ms);
  return w.take();
}

Result<Bytes> EnrollmentRequest::encode() const {
  auto body = signable_bytes();
  if (!body) return body.error();
  body->insert(body->end(), signature.begin(), signature.end());
  return body;
}

Status EnrollmentRequest::verify_signature() const {
  auto body = signable_bytes();
  if (!body) return body.error();
  return security::verify_signature(subject_public_key, *body, signature);
}

Result<EnrollmentRequest> EnrollmentRequest::decode(ByteView bytes) {
  if (bytes.size() < kEnrollmentRequestMinSize) {
    return serialization("enrollment request too short: " + std::to_string(bytes.size()) +
                         " bytes (min 109)");
  }
  detail::Reader r(bytes);
  EnrollmentRequest out;
  out.subject_public_key = *r.array<32>();
  auto mesh = r.take(*r.u8());
  if (!mesh || r.remaining() < 1) return serialization("enrollment request truncated at mesh_id");
  auto node_len = *r.u8();
  if (r.remaining() < std::size_t{node_len} + 3) {
    return serialization("enrollment request truncated at node_id");
  }
  auto node = *r.take(node_len);
  if (!detail::is_valid_utf8(*mesh)) return serialization("invalid mesh_id: not UTF-8");
  if (!detail::is_valid_utf8(node)) return serialization("invalid node_id: not UTF-8");
  out.mesh_id.assign(as_chars(*mesh));
  out.node_id.assign(as_chars(node));
  auto tier = tier_from_byte(*r.u8());
  if (!tier) return serialization("invalid tier byte");
  out.requested_tier = *tier;
  auto token_len = *r.u16();
  if (r.remaining() < std::size_t{token_len} + 8 + 64) {
    return serialization("enrollment request truncated at token");
  }
  auto token = *r.take(token_len);
  out.bootstrap_token.assign(token.begin(), token.end());
  out.timestamp_ms = *r.u64();
  out.signature = *r.array<64>();
  if (r.remaining() != 0) {
    return serialization("enrollment request has " + std::to_string(r.remaining()) +
                         " trailing bytes");
  }
  return out;
}

// --- EnrollmentResponse ---------------------------------------------------------------------

std::string_view enrollment_status_name(EnrollmentStatus s) {
  switch (s) {
    case EnrollmentStatus::Pending:
      return "Pending";
    case EnrollmentStatus::Approved:
      return "Approved";
    case EnrollmentStatus::Denied:
      return "Denied";
    case EnrollmentStatus::Revoked:
      return "Revoked";
  }
  return "Unknown";
}

EnrollmentResponse EnrollmentResponse::approved(MeshCertificate cert,
                                                std::optional<SecretBytes> secret, UnixMillis ts) {
  EnrollmentResponse r;
  r.status = EnrollmentStatus::Approved;
  r.certificate = std::move(cert);
  r.formation_secret = std::move(secret);
  r.timestamp_ms = ts;
  return r;
}

EnrollmentResponse EnrollmentResponse::denied(std::string reason, UnixMillis ts) {
  EnrollmentResponse r;
  r.status = EnrollmentStatus::Denied;
  r.reason = std::move(reason);
  r.timestamp_ms = ts;
  return r;
}

EnrollmentResponse EnrollmentResponse::revoked(std::string reason, UnixMillis ts) {
  EnrollmentResponse r = denied(std::move(reason), ts);
  r.status = EnrollmentStatus::Revoked;
  return r;
}

EnrollmentResponse EnrollmentResponse::pending(UnixMillis ts) {
  EnrollmentResponse r;
  r.timestamp_ms = ts;
  return r;
}

namespace {
bool has_reason(EnrollmentStatus s) {
  return s == EnrollmentStatus::Denied || s == EnrollmentStatus::Revoked;
}
}  // namespace

Result<Bytes> EnrollmentResponse::encode() const {
  if (!has_reason(status) && !reason.empty()) {
    return serialization("only Denied and Revoked responses carry a reason");
  }
  if (reason.size() > 0xFFFF) return serialization("reason longer than 65535 bytes");
  detail::Writer w;
  w.u8(static_cast<std::uint8_t>(status));
  w.u16(static_cast<std::uint16_t>(reason.size()));
  w.str(reason);
  if (certificate) {
    auto cert = certificate->encode();
    if (!cert) return cert.error();
    w.u8(1);
    w.u16(static_cast<std::uint16_t>(cert->size()));  // ≤ 148 + 2·255 bytes
    w.bytes(*cert);
  } else {
    w.u8(0);
  }
  if (formation_secret) {
    if (formation_secret->size() > 0xFFFF) return serialization("formation secret too long");
    w.u8(1);
    w.u16(static_cast<std::uint16_t>(formation_secret->size()));
    w.bytes(formation_secret->view());
  } else {
    w.u8(0);
  }
  w.u64(timestamp_ms);
  return w.take();
}

Result<EnrollmentResponse> EnrollmentResponse::decode(ByteView bytes) {
  if (bytes.size() < kEnrollmentResponseMinSize) {
    return serialization("enrollment response too short: " + std::to_string(bytes.size()) +
                         " bytes (min 13)");
  }
  detail::Reader r(bytes);
  EnrollmentResponse out;
  std::uint8_t status = *r.u8();
  if (status > 3) return serialization("invalid enrollment status byte " + std::to_string(status));
  out.status = static_cast<EnrollmentStatus>(status);
  auto reason = r.take(*r.u16());
  // The Rust decoder requires at least one byte after the reason (the has_cert flag).
  if (!reason || r.remaining() < 1) return serialization("enrollment response truncated at reason");
  if (!has_reason(out.status) && !reason->empty()) {
    return serialization("reason present on a " + std::string(enrollment_status_name(out.status)) +
                         " response");
  }
  if (!detail::is_valid_utf8(*reason)) return serialization("invalid reason: not UTF-8");
  out.reason.assign(as_chars(*reason));

  auto flag = [&](std::string_view what) -> Result<bool> {
    auto f = r.u8();
    if (!f) return serialization("enrollment response truncated at " + std::string(what));
    if (*f > 1) return serialization("invalid " + std::string(what) + " flag");
    return *f == 1;
  };
  auto has_cert = flag("certificate");
  if (!has_cert) return has_cert.error();
  if (*has_cert) {
    auto len = r.u16();
    auto cert_bytes = len ? r.take(*len) : std::nullopt;
    if (!cert_bytes) return serialization("enrollment response truncated at certificate");
    auto cert = MeshCertificate::decode(*cert_bytes);
    if (!cert) return cert.error();
    out.certificate = std::move(*cert);
  }
  auto has_secret = flag("formation secret");
  if (!has_secret) return has_secret.error();
  if (*has_secret) {
    auto len = r.u16();
    auto secret = len ? r.take(*len) : std::nullopt;
    if (!secret) return serialization("enrollment response truncated at formation secret");
    out.formation_secret = SecretBytes(*secret);
  }
  auto ts = r.u64();
  if (!ts) return serialization("enrollment response truncated at timestamp");
  out.timestamp_ms = *ts;
  if (r.remaining() != 0) {
    return serialization("enrollment response has " + std::to_string(r.remaining()) +
                         " trailing bytes");
  }
  return out;
}

Status check_enrollment_response(const EnrollmentResponse& response, const PublicKeyBytes& subject,
                                 std::string_view mesh_id, const PublicKeyBytes& authority,
                                 UnixMillis now_ms) {
  if (response.status != EnrollmentStatus::Approved || !response.certificate) {
    std::string why = "enrollment " + std::string(enrollment_status_name(response.status));
    if (!response.reason.empty()) why += ": " + response.reason;
    return security_error(errc::kPermissionDenied, why);
  }
  const MeshCertificate& cert = *response.certificate;
  if (cert.subject_public_key != subject) {
    return security_error(errc::kCertificateError, "certificate is for another key");
  }
  if (cert.mesh_id != mesh_id) {
    return security_error(errc::kCertificateError, "certificate is for mesh " + cert.mesh_id);
  }
  if (cert.issuer_public_key != authority) {
    return security_error(errc::kCertificateError, "certificate not issued by the authority");
  }
  PEAT_TRY_STATUS(cert.verify());
  if (!cert.is_valid(now_ms)) {
    return security_error(errc::kCertificateExpired, "certificate not valid now");
  }
  return {};
}

// --- StaticEnrollmentService ----------------------------------------------------------------

StaticEnrollmentService::StaticEnrollmentService(DeviceKeypair authority, std::string mesh_id,
                                                 Options options)
    : authority_(std::move(authority)),
      mesh_id_(std::move(mesh_id)),
      options_(std::move(options)) {}

void StaticEnrollmentService::add_token(ByteView token, MeshTier tier, std::uint8_t perms) {
  tokens_[Sha256::digest(token)] = Grant{tier, perms};
}

Result<EnrollmentResponse> StaticEnrollmentService::process_request(
    const EnrollmentRequest& request, UnixMillis now_ms) {
  PEAT_TRY_STATUS(request.verify_signature());
  if (request.mesh_id != mesh_id_) {
    return EnrollmentResponse::denied(
        "mesh ID mismatch: expected " + mesh_id_ + ", got " + request.mesh_id, now_ms);
  }
  UnixMillis skew =
      request.timestamp_ms > now_ms ? request.timestamp_ms - now_ms : now_ms - request.timestamp_ms;
  if (skew > options_.max_clock_skew_ms) {
    return EnrollmentResponse::denied("request timestamp outside the allowed window", now_ms);
  }
  if (revoked_.contains(request.subject_public_key)) {
    return EnrollmentResponse::revoked("enrollment revoked", now_ms);
  }
  auto token = tokens_.find(Sha256::digest(request.bootstrap_token));
  if (token == tokens_.end()) {
    return EnrollmentResponse::denied("invalid bootstrap token", now_ms);
  }
  UnixMillis expires = 0;
  if (options_.validity_ms != 0) {
    expires =
        now_ms > UINT64_MAX - options_.validity_ms ? UINT64_MAX : now_ms + options_.validity_ms;
  }
  auto cert =
      MeshCertificate::issue(authority_, request.subject_public_key, mesh_id_, request.node_id,
                             token->second.tier, token->second.permissions, now_ms, expires);
  if (!cert) return cert.error();
  tokens_.erase(token);  // one-time
  approved_.insert(request.subject_public_key);
  return EnrollmentResponse::approved(std::move(*cert), options_.formation_secret, now_ms);
}

EnrollmentStatus StaticEnrollmentService::check_status(const PublicKeyBytes& subject) const {
  if (revoked_.contains(subject)) return EnrollmentStatus::Revoked;
  if (approved_.contains(subject)) return EnrollmentStatus::Approved;
  return EnrollmentStatus::Pending;
}

Result<Revocation> StaticEnrollmentService::revoke(const PublicKeyBytes& subject,
                                                   std::string reason, UnixMillis now_ms) {
  auto rev = Revocation::create(authority_, subject, std::move(reason), now_ms);
  if (!rev) return rev.error();
  revoked_.insert(subject);
  approved_.erase(subject);
  return rev;
}

}  // namespace peat::security
