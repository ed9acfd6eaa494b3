// CertificateStore: certificates and signed revocations kept as CRDT documents, so they sync
// mesh-wide like any collection (spec storage §1.20, docs/certificates.md), and the live
// CertificateBundle that the Layer-2 gate reads.
//
//   certificates:<subject hex>  {cert_data: base64(wire), node_id, tier, subject, issuer,
//                                permissions, expires_at_ms, written_at_ms}
//   revocations:<subject hex>   {subject, reason, timestamp_ms, issuer,
//                                revocation_data: base64(signed "PRV1" revocation)}
//
// Unlike the Rust store nothing enters the bundle unchecked: a certificate must chain to a
// trusted authority, a revocation must be signed by one, and a revocation that arrives by sync
// removes the certificate from the live bundle (the Rust watcher never does).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "peat/common/clock.hpp"
#include "peat/security/certificate.hpp"
#include "peat/security/trust.hpp"
#include "peat/store/document_store.hpp"

#include <nlohmann/json.hpp>

namespace peat::mesh {

inline constexpr std::string_view kCertificatesCollection = "certificates";
inline constexpr std::string_view kRevocationsCollection = "revocations";

// The documents above (what publish_* write), e.g. for a tool that writes a revocation through
// a node's broker: PUT /api/v1/documents/revocations/<subject hex>.
Result<nlohmann::json> certificate_document(const security::MeshCertificate& cert,
                                            UnixMillis written_at_ms);
Result<nlohmann::json> revocation_document(const security::Revocation& revocation);

class CertificateStore {
 public:
  // Both must outlive the store.
  CertificateStore(store::DocumentStore& docs, security::CertificateBundle& bundle);
  ~CertificateStore();
  CertificateStore(const CertificateStore&) = delete;
  CertificateStore& operator=(const CertificateStore&) = delete;

  // Adds to the bundle (full check; errors returned as they are, nothing written then), then
  // writes certificates:<subject hex>.
  Status publish_certificate(const security::MeshCertificate& cert, UnixMillis now_ms);
  // Adds to the bundle (must be signed by a trusted authority), then writes
  // revocations:<subject hex>.
  Status publish_revocation(const security::Revocation& revocation, UnixMillis now_ms);

  struct LoadReport {
    std::size_t certificates = 0;  // now in the bundle
    std::size_t revocations = 0;   // accepted
    std::size_t skipped = 0;       // undecodable, unsigned, revoked, expired, not chaining
  };
  // Every revocation first, then every certificate (in rounds, so delegates load in any order).
  Result<LoadReport> load_all(UnixMillis now_ms);

  enum class Applied : std::uint8_t { kNone, kCertificateAdded, kRevocationAdded, kSkipped };
  // Reads store document `key` (a certificates:/revocations: key) into the bundle.
  Applied apply(std::string_view key, UnixMillis now_ms);

  // Follows the store: every change to either collection (local or from a peer) is applied;
  // `on_change(key, applied)` then runs (e.g. to re-check connected peers). Runs on the thread
  // that writes the store. `clock` gives now in Unix ms.
  void watch(std::function<UnixMillis()> clock,
             std::function<void(const std::string& key, Applied applied)> on_change);
  void unwatch();

  // Reads certificates:<hex of subject> (e.g. this node's own certificate after it synced).
  Result<std::optional<security::MeshCertificate>> find_certificate(
      const security::PublicKeyBytes& subject) const;

  security::CertificateBundle& bundle() { return bundle_; }

 private:
  store::DocumentStore& docs_;
  security::CertificateBundle& bundle_;
  store::Subscription certificates_sub_;
  store::Subscription revocations_sub_;
};

}  // namespace peat::mesh
