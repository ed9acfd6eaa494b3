// Trust hierarchy: trusted authority keys, member certificates with ENROLL delegation chains,
// and revocations that must be signed by an authority.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/security/certificate.hpp"

namespace peat::security {

// A signed statement that a subject's certificates are no longer valid. Not in the Rust crate
// (its revocations are unsigned CRDT entries). Wire form:
// "PRV1" ‖ subject_pk[32] ‖ reason_len u16 ‖ reason ‖ revoked_at_ms u64 ‖ issuer_pk[32] ‖ sig[64]
// The signature (by issuer) covers every byte before it, the "PRV1" tag included.
struct Revocation {
  PublicKeyBytes subject_public_key{};
  std::string reason;
  UnixMillis revoked_at_ms = 0;
  PublicKeyBytes issuer_public_key{};
  SignatureBytes signature{};

  static Result<Revocation> create(const DeviceKeypair& issuer, const PublicKeyBytes& subject,
                                   std::string reason, UnixMillis revoked_at_ms);
  Status verify() const;
  Result<Bytes> encode() const;
  static Result<Revocation> decode(ByteView bytes);
  bool operator==(const Revocation&) const = default;
};

class CertificateBundle {
 public:
  // Delegation chains longer than this are rejected (INVALID_CERT_CHAIN).
  static constexpr int kMaxChainDepth = 8;

  // With a non-empty mesh_id, only certificates for that mesh are accepted (the Rust bundle
  // never checks mesh_id).
  explicit CertificateBundle(std::string mesh_id = {}) : mesh_id_(std::move(mesh_id)) {}

  void add_authority(const PublicKeyBytes& key);
  bool is_authority(const PublicKeyBytes& key) const { return authorities_.contains(key); }
  std::size_t authority_count() const { return authorities_.size(); }

  // Accepts `cert` if its signature verifies, it is valid at `now_ms`, its subject is not
  // revoked, its mesh matches, and it chains to a trusted authority:
  //  - a self-signed root only if its key is a trusted authority (Rust accepts any root);
  //  - issued by a trusted authority; or
  //  - issued by a member whose own certificate has ENROLL and itself chains (re-checked
  //    recursively at `now_ms`, depth ≤ kMaxChainDepth); such a delegate can only grant
  //    permission bits it holds itself.
  // A node_id already bound to a different, still valid key is not taken over.
  // Replaces any previous certificate of the same subject.
  Status add_certificate(const MeshCertificate& cert, UnixMillis now_ms);

  // Accepts a revocation signed by a trusted authority; drops the subject's certificate and
  // refuses it from then on. CERTIFICATE_ERROR for other issuers.
  Status add_revocation(const Revocation& revocation);
  bool is_revoked(const PublicKeyBytes& subject) const { return revoked_.contains(subject); }

  // Full re-check at `now_ms`: present (PEER_NOT_FOUND), not revoked (CERTIFICATE_REVOKED),
  // time-valid (CERTIFICATE_EXPIRED), signature (INVALID_SIGNATURE), chain (INVALID_CERT_CHAIN).
  Status validate_peer(const PublicKeyBytes& subject, UnixMillis now_ms) const;
  Status validate_node_id(std::string_view node_id, UnixMillis now_ms) const;

  const MeshCertificate* get_certificate(const PublicKeyBytes& subject) const;
  const MeshCertificate* get_certificate_by_node_id(std::string_view node_id) const;

  // Drops certificates that are no longer valid at `now_ms`; returns how many.
  std::size_t remove_expired(UnixMillis now_ms);
  std::size_t size() const { return certificates_.size(); }
  bool empty() const { return certificates_.empty(); }

  // Every regular file of exactly 32 bytes holding a valid Ed25519 key becomes an authority;
  // other files are skipped. Returns how many were added; IO_ERROR if the folder is unreadable.
  Result<std::size_t> load_authorities_from_dir(const std::filesystem::path& dir);
  // Every regular file that decodes and is accepted by add_certificate; others are skipped.
  Result<std::size_t> load_certificates_from_dir(const std::filesystem::path& dir,
                                                 UnixMillis now_ms);

 private:
  Status check_chain(const MeshCertificate& cert, UnixMillis now_ms, int depth) const;

  std::string mesh_id_;
  std::set<PublicKeyBytes> authorities_;
  std::map<PublicKeyBytes, MeshCertificate> certificates_;
  std::map<std::string, PublicKeyBytes, std::less<>> node_index_;
  std::set<PublicKeyBytes> revoked_;
};

}  // namespace peat::security
