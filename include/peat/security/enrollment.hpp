// Enrollment: a node proves possession of its key and presents a bootstrap token; an authority
// answers with a certificate (spec §2.7).
//
// Request:  subject_pk[32] ‖ mesh_id_len u8 ‖ mesh_id ‖ node_id_len u8 ‖ node_id ‖
//           requested_tier u8 ‖ token_len u16 ‖ token ‖ timestamp_ms u64 ‖ signature[64]
//           (signed by the subject's own key over every byte before the signature)
// Response: status u8 ‖ reason_len u16 ‖ reason ‖ has_cert u8 ‖ [cert_len u16 ‖ cert] ‖
//           has_secret u8 ‖ [secret_len u16 ‖ secret] ‖ timestamp_ms u64   (not signed)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/common/sha256.hpp"
#include "peat/security/certificate.hpp"
#include "peat/security/trust.hpp"

namespace peat::security {

inline constexpr std::size_t kEnrollmentRequestMinSize = 109;
inline constexpr std::size_t kEnrollmentResponseMinSize = 13;
inline constexpr std::size_t kMaxEnrollmentMessage = 65536;  // framing limit per direction

struct EnrollmentRequest {
  PublicKeyBytes subject_public_key{};
  std::string mesh_id;
  std::string node_id;
  MeshTier requested_tier = MeshTier::Edge;
  Bytes bootstrap_token;
  UnixMillis timestamp_ms = 0;
  SignatureBytes signature{};

  // Signed with `subject` (proof of possession). SERIALIZATION_ERROR on ids > 255 bytes or a
  // token > 65,535 bytes.
  static Result<EnrollmentRequest> create(const DeviceKeypair& subject, std::string mesh_id,
                                          std::string node_id, MeshTier requested_tier,
                                          Bytes bootstrap_token, UnixMillis timestamp_ms);
  Status verify_signature() const;
  Result<Bytes> signable_bytes() const;
  Result<Bytes> encode() const;
  static Result<EnrollmentRequest> decode(ByteView bytes);
};

enum class EnrollmentStatus : std::uint8_t { Pending = 0, Approved = 1, Denied = 2, Revoked = 3 };
std::string_view enrollment_status_name(EnrollmentStatus s);

struct EnrollmentResponse {
  EnrollmentStatus status = EnrollmentStatus::Pending;
  std::string reason;  // only for Denied / Revoked
  std::optional<MeshCertificate> certificate;
  std::optional<SecretBytes> formation_secret;
  UnixMillis timestamp_ms = 0;

  static EnrollmentResponse approved(MeshCertificate cert, std::optional<SecretBytes> secret,
                                     UnixMillis ts);
  static EnrollmentResponse denied(std::string reason, UnixMillis ts);
  static EnrollmentResponse revoked(std::string reason, UnixMillis ts);
  static EnrollmentResponse pending(UnixMillis ts);

  Result<Bytes> encode() const;
  // Strict: unknown status, a presence flag other than 0/1, a reason on Pending/Approved,
  // truncation and trailing bytes are SERIALIZATION_ERROR.
  static Result<EnrollmentResponse> decode(ByteView bytes);
};

// Client-side check of an Approved response (the response itself is unsigned, as in Rust):
// the certificate must be for `subject`, in `mesh_id`, issued by `authority` (whose public key
// the client already trusts), correctly signed and valid at `now_ms`. Errors:
// PERMISSION_DENIED (not Approved / no certificate), CERTIFICATE_ERROR (wrong subject, mesh or
// issuer), INVALID_SIGNATURE, CERTIFICATE_EXPIRED.
Status check_enrollment_response(const EnrollmentResponse& response, const PublicKeyBytes& subject,
                                 std::string_view mesh_id, const PublicKeyBytes& authority,
                                 UnixMillis now_ms);

// Approves nodes that present a pre-provisioned bootstrap token. Unlike the Rust service,
// each token is consumed by its first successful use, requests must be fresh (timestamp within
// max_clock_skew_ms of now), approvals are remembered for check_status, and revoke() returns a
// signed Revocation.
class StaticEnrollmentService {
 public:
  struct Options {
    UnixMillis validity_ms = 24ull * 60 * 60 * 1000;  // 0 = certificates never expire
    UnixMillis max_clock_skew_ms = 5ull * 60 * 1000;
    std::optional<SecretBytes> formation_secret;  // sent with approvals when set
  };

  StaticEnrollmentService(DeviceKeypair authority, std::string mesh_id, Options options);

  // A one-time token granting `tier` and `permissions`. Re-adding a token re-arms it.
  void add_token(ByteView token, MeshTier tier, std::uint8_t permissions);
  std::size_t remaining_tokens() const { return tokens_.size(); }

  // INVALID_SIGNATURE/INVALID_PUBLIC_KEY (an error, not a Denied response) when the request is
  // not signed by its subject. Otherwise a Denied response for: wrong mesh ("mesh ID mismatch:
  // expected X, got Y"), stale or future timestamp, unknown or already used token ("invalid
  // bootstrap token"). Approved: certificate with the token's tier/permissions (the requested
  // tier is ignored), issued now.
  Result<EnrollmentResponse> process_request(const EnrollmentRequest& request, UnixMillis now_ms);

  // Approved after an approval, Revoked after revoke(), else Pending.
  EnrollmentStatus check_status(const PublicKeyBytes& subject) const;
  // A Revocation signed by the authority (feed it to CertificateBundle::add_revocation).
  Result<Revocation> revoke(const PublicKeyBytes& subject, std::string reason, UnixMillis now_ms);

  const std::string& mesh_id() const { return mesh_id_; }
  const DeviceKeypair& authority() const { return authority_; }

 private:
  struct Grant {
    MeshTier tier;
    std::uint8_t permissions;
  };
  DeviceKeypair authority_;
  std::string mesh_id_;
  Options options_;
  std::map<Sha256Digest, Grant> tokens_;  // keyed by SHA-256(token)
  std::set<PublicKeyBytes> approved_;
  std::set<PublicKeyBytes> revoked_;
};

}  // namespace peat::security
