#include "peat/mesh/certificate_store.hpp"

#include <nlohmann/json.hpp>

namespace peat::mesh {

using nlohmann::json;

namespace {

std::string key_for(std::string_view collection, const security::PublicKeyBytes& subject) {
  return std::string(collection) + ":" + to_hex(ByteView(subject));
}

// base64 field `field` of a stored document, decoded.
std::optional<Bytes> blob_field(const json& doc, const char* field) {
  auto it = doc.find(field);
  if (it == doc.end() || !it->is_string()) return std::nullopt;
  auto bytes = from_base64(it->get<std::string>());
  if (!bytes) return std::nullopt;
  return std::move(bytes.value());
}

bool has_prefix(std::string_view key, std::string_view collection) {
  return key.size() > collection.size() + 1 && key.substr(0, collection.size()) == collection &&
         key[collection.size()] == ':';
}

}  // namespace

CertificateStore::CertificateStore(store::DocumentStore& docs, security::CertificateBundle& bundle)
    : docs_(docs), bundle_(bundle) {}

CertificateStore::~CertificateStore() {
  unwatch();
}

Result<json> certificate_document(const security::MeshCertificate& cert, UnixMillis written_at_ms) {
  auto wire = cert.encode();
  if (!wire) return wire.error();
  return json{{"cert_data", to_base64(*wire)},
              {"node_id", cert.node_id},
              {"tier", std::string(security::tier_name(cert.tier))},
              {"subject", to_hex(ByteView(cert.subject_public_key))},
              {"issuer", to_hex(ByteView(cert.issuer_public_key))},
              {"permissions", cert.permissions},
              {"expires_at_ms", cert.expires_at_ms},
              {"written_at_ms", written_at_ms}};
}

Result<json> revocation_document(const security::Revocation& revocation) {
  auto wire = revocation.encode();
  if (!wire) return wire.error();
  return json{{"subject", to_hex(ByteView(revocation.subject_public_key))},
              {"reason", revocation.reason},
              {"timestamp_ms", revocation.revoked_at_ms},
              {"issuer", to_hex(ByteView(revocation.issuer_public_key))},
              {"revocation_data", to_base64(*wire)}};
}

Status CertificateStore::publish_certificate(const security::MeshCertificate& cert,
                                             UnixMillis now_ms) {
  auto doc = certificate_document(cert, now_ms);
  if (!doc) return doc.error();
  PEAT_TRY_STATUS(bundle_.add_certificate(cert, now_ms));
  return docs_.put_json(key_for(kCertificatesCollection, cert.subject_public_key), *doc, now_ms);
}

Status CertificateStore::publish_revocation(const security::Revocation& revocation,
                                            UnixMillis now_ms) {
  auto doc = revocation_document(revocation);
  if (!doc) return doc.error();
  PEAT_TRY_STATUS(bundle_.add_revocation(revocation));
  return docs_.put_json(key_for(kRevocationsCollection, revocation.subject_public_key), *doc,
                        now_ms);
}

CertificateStore::Applied CertificateStore::apply(std::string_view key, UnixMillis now_ms) {
  const bool is_cert = has_prefix(key, kCertificatesCollection);
  const bool is_revocation = has_prefix(key, kRevocationsCollection);
  if (!is_cert && !is_revocation) return Applied::kNone;
  auto doc = docs_.get_json(key);
  if (!doc || !*doc || !(*doc)->is_object()) return Applied::kSkipped;
  if (is_revocation) {
    auto wire = blob_field(**doc, "revocation_data");
    if (!wire) return Applied::kSkipped;
    auto revocation = security::Revocation::decode(*wire);
    if (!revocation || !bundle_.add_revocation(*revocation)) return Applied::kSkipped;
    return Applied::kRevocationAdded;
  }
  auto wire = blob_field(**doc, "cert_data");
  if (!wire) return Applied::kSkipped;
  auto cert = security::MeshCertificate::decode(*wire);
  if (!cert || !bundle_.add_certificate(*cert, now_ms)) return Applied::kSkipped;
  return Applied::kCertificateAdded;
}

Result<CertificateStore::LoadReport> CertificateStore::load_all(UnixMillis now_ms) {
  LoadReport report;
  auto revocations = docs_.list(kRevocationsCollection);
  if (!revocations) return revocations.error();
  for (const auto& key : *revocations) {  // full keys
    auto a = apply(key, now_ms);
    if (a == Applied::kRevocationAdded) {
      ++report.revocations;
    } else {
      ++report.skipped;
    }
  }
  auto certificates = docs_.list(kCertificatesCollection);
  if (!certificates) return certificates.error();
  // A delegate's certificate may come after the members it issued: retry until no progress
  // (bounded by the number of certificates).
  std::vector<std::string> pending = std::move(certificates.value());
  bool progress = true;
  while (progress && !pending.empty()) {
    progress = false;
    std::vector<std::string> left;
    for (const auto& key : pending) {
      if (apply(key, now_ms) == Applied::kCertificateAdded) {
        ++report.certificates;
        progress = true;
      } else {
        left.push_back(key);
      }
    }
    pending = std::move(left);
  }
  report.skipped += pending.size();
  return report;
}

void CertificateStore::watch(std::function<UnixMillis()> clock,
                             std::function<void(const std::string&, Applied)> on_change) {
  auto handler = [this, clock = std::move(clock),
                  on_change = std::move(on_change)](const store::ChangeEvent& ev) {
    if (ev.kind != store::ChangeKind::kPut) return;
    auto applied = apply(ev.key, clock());
    if (on_change) on_change(ev.key, applied);
  };
  certificates_sub_ = docs_.subscribe(std::string(kCertificatesCollection) + ":", handler);
  revocations_sub_ = docs_.subscribe(std::string(kRevocationsCollection) + ":", handler);
}

void CertificateStore::unwatch() {
  certificates_sub_.cancel();
  revocations_sub_.cancel();
}

Result<std::optional<security::MeshCertificate>> CertificateStore::find_certificate(
    const security::PublicKeyBytes& subject) const {
  auto doc = docs_.get_json(key_for(kCertificatesCollection, subject));
  if (!doc) return doc.error();
  if (!*doc || !(*doc)->is_object()) return std::optional<security::MeshCertificate>();
  auto wire = blob_field(**doc, "cert_data");
  if (!wire) return std::optional<security::MeshCertificate>();
  auto cert = security::MeshCertificate::decode(*wire);
  if (!cert) return cert.error();
  return std::optional<security::MeshCertificate>(std::move(cert.value()));
}

}  // namespace peat::mesh
