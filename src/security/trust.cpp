#include "peat/security/trust.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <system_error>

#include "peat/security/errors.hpp"
#include "security/wire.hpp"

namespace peat::security {

namespace {
constexpr std::string_view kRevocationTag = "PRV1";
constexpr std::size_t kRevocationMinSize = 4 + 32 + 2 + 8 + 32 + 64;

Error cert_error(std::string message) {
  return security_error(errc::kCertificateError, std::move(message));
}
Error chain_error(std::string message) {
  return security_error(errc::kInvalidCertChain, std::move(message));
}
std::string short_hex(const PublicKeyBytes& key) {
  return to_hex(ByteView(key).first(8));
}

// Reads a whole small file (≤ limit bytes); nullopt if unreadable or larger.
std::optional<Bytes> read_small_file(const std::filesystem::path& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  Bytes data;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.insert(data.end(), buf, buf + in.gcount());
    if (data.size() > limit) return std::nullopt;
  }
  return data;
}
}  // namespace

// --- Revocation -----------------------------------------------------------------------------

namespace {
Result<Bytes> revocation_signable(const Revocation& r) {
  if (r.reason.size() > 0xFFFF) return detail::serialization("revocation reason too long");
  detail::Writer w;
  w.str(kRevocationTag);
  w.bytes(r.subject_public_key);
  w.u16(static_cast<std::uint16_t>(r.reason.size()));
  w.str(r.reason);
  w.u64(r.revoked_at_ms);
  w.bytes(r.issuer_public_key);
  return w.take();
}
}  // namespace

Result<Revocation> Revocation::create(const DeviceKeypair& issuer, const PublicKeyBytes& subject,
                                      std::string reason, UnixMillis revoked_at_ms) {
  Revocation r;
  r.subject_public_key = subject;
  r.reason = std::move(reason);
  r.revoked_at_ms = revoked_at_ms;
  r.issuer_public_key = issuer.public_key_bytes();
  auto body = revocation_signable(r);
  if (!body) return body.error();
  r.signature = issuer.sign(*body);
  return r;
}

Status Revocation::verify() const {
  auto body = revocation_signable(*this);
  if (!body) return body.error();
  return verify_signature(issuer_public_key, *body, signature);
}

Result<Bytes> Revocation::encode() const {
  auto body = revocation_signable(*this);
  if (!body) return body.error();
  body->insert(body->end(), signature.begin(), signature.end());
  return body;
}

Result<Revocation> Revocation::decode(ByteView bytes) {
  using detail::serialization;
  if (bytes.size() < kRevocationMinSize) {
    return serialization("revocation too short: " + std::to_string(bytes.size()) +
                         " bytes (min 142)");
  }
  detail::Reader r(bytes);
  if (as_chars(*r.take(4)) != kRevocationTag) return serialization("not a revocation (bad tag)");
  Revocation out;
  out.subject_public_key = *r.array<32>();
  auto reason = r.take(*r.u16());
  if (!reason || r.remaining() != 8 + 32 + 64) {
    return serialization(reason ? "revocation has trailing bytes"
                                : "revocation truncated at reason");
  }
  if (!detail::is_valid_utf8(*reason)) return serialization("invalid reason: not UTF-8");
  out.reason.assign(as_chars(*reason));
  out.revoked_at_ms = *r.u64();
  out.issuer_public_key = *r.array<32>();
  out.signature = *r.array<64>();
  return out;
}

// --- CertificateBundle ----------------------------------------------------------------------

void CertificateBundle::add_authority(const PublicKeyBytes& key) {
  authorities_.insert(key);
}

Status CertificateBundle::check_chain(const MeshCertificate& cert, UnixMillis now_ms,
                                      int depth) const {
  if (depth > kMaxChainDepth) return chain_error("delegation chain too long");
  if (revoked_.contains(cert.subject_public_key)) {
    return security_error(errc::kCertificateRevoked,
                          "certificate of " + short_hex(cert.subject_public_key) + "… is revoked");
  }
  if (!cert.is_valid(now_ms)) {
    return security_error(errc::kCertificateExpired,
                          "certificate of " + short_hex(cert.subject_public_key) +
                              "… is not valid at " + std::to_string(now_ms));
  }
  PEAT_TRY_STATUS(cert.verify());
  if (!mesh_id_.empty() && cert.mesh_id != mesh_id_) {
    return cert_error("certificate is for mesh " + cert.mesh_id + ", expected " + mesh_id_);
  }
  if (cert.is_root()) {
    if (authorities_.contains(cert.subject_public_key)) return {};
    return chain_error("self-signed certificate from a key that is not a trusted authority");
  }
  if (authorities_.contains(cert.issuer_public_key)) {
    if (revoked_.contains(cert.issuer_public_key))
      return chain_error("issuing authority is revoked");
    return {};
  }
  auto it = certificates_.find(cert.issuer_public_key);
  if (it == certificates_.end()) {
    return chain_error("issuer not in trusted authorities and has no ENROLL delegation");
  }
  const MeshCertificate& issuer = it->second;
  if (!issuer.has_permission(permissions::kEnroll)) {
    return chain_error("issuer not in trusted authorities and has no ENROLL delegation");
  }
  if ((cert.permissions & ~issuer.permissions) != 0) {
    return chain_error("delegate granted permissions it does not hold");
  }
  Status upstream = check_chain(issuer, now_ms, depth + 1);
  if (!upstream) {
    return chain_error("delegating issuer is not trusted: " + upstream.error().to_string());
  }
  return {};
}

Status CertificateBundle::add_certificate(const MeshCertificate& cert, UnixMillis now_ms) {
  PEAT_TRY_STATUS(check_chain(cert, now_ms, 0));
  if (!cert.node_id.empty()) {
    auto bound = node_index_.find(cert.node_id);
    if (bound != node_index_.end() && bound->second != cert.subject_public_key) {
      auto holder = certificates_.find(bound->second);
      if (holder != certificates_.end() && check_chain(holder->second, now_ms, 0)) {
        return cert_error("node_id " + cert.node_id + " is already bound to another key");
      }
    }
  }
  // A replaced certificate may have carried another node_id: unbind it.
  auto previous = certificates_.find(cert.subject_public_key);
  if (previous != certificates_.end() && !previous->second.node_id.empty()) {
    auto idx = node_index_.find(previous->second.node_id);
    if (idx != node_index_.end() && idx->second == cert.subject_public_key) node_index_.erase(idx);
  }
  if (!cert.node_id.empty()) node_index_[cert.node_id] = cert.subject_public_key;
  certificates_[cert.subject_public_key] = cert;
  return {};
}

Status CertificateBundle::add_revocation(const Revocation& revocation) {
  if (!authorities_.contains(revocation.issuer_public_key)) {
    return cert_error("revocation not issued by a trusted authority");
  }
  PEAT_TRY_STATUS(revocation.verify());
  revoked_.insert(revocation.subject_public_key);
  auto it = certificates_.find(revocation.subject_public_key);
  if (it != certificates_.end()) {
    auto idx = node_index_.find(it->second.node_id);
    if (idx != node_index_.end() && idx->second == revocation.subject_public_key) {
      node_index_.erase(idx);
    }
    certificates_.erase(it);
  }
  return {};
}

Status CertificateBundle::validate_peer(const PublicKeyBytes& subject, UnixMillis now_ms) const {
  if (revoked_.contains(subject)) {
    return security_error(errc::kCertificateRevoked, "peer " + short_hex(subject) + "… is revoked");
  }
  auto it = certificates_.find(subject);
  if (it == certificates_.end()) {
    return security_error(errc::kPeerNotFound,
                          "no certificate for peer " + short_hex(subject) + "…");
  }
  return check_chain(it->second, now_ms, 0);
}

Status CertificateBundle::validate_node_id(std::string_view node_id, UnixMillis now_ms) const {
  auto idx = node_index_.find(node_id);
  if (idx == node_index_.end()) {
    return security_error(errc::kPeerNotFound, "no certificate for node " + std::string(node_id));
  }
  return validate_peer(idx->second, now_ms);
}

const MeshCertificate* CertificateBundle::get_certificate(const PublicKeyBytes& subject) const {
  auto it = certificates_.find(subject);
  return it == certificates_.end() ? nullptr : &it->second;
}

const MeshCertificate* CertificateBundle::get_certificate_by_node_id(
    std::string_view node_id) const {
  auto idx = node_index_.find(node_id);
  return idx == node_index_.end() ? nullptr : get_certificate(idx->second);
}

std::size_t CertificateBundle::remove_expired(UnixMillis now_ms) {
  std::size_t removed = 0;
  for (auto it = certificates_.begin(); it != certificates_.end();) {
    if (it->second.is_valid(now_ms)) {
      ++it;
      continue;
    }
    auto idx = node_index_.find(it->second.node_id);
    if (idx != node_index_.end() && idx->second == it->first) node_index_.erase(idx);
    it = certificates_.erase(it);
    ++removed;
  }
  return removed;
}

Result<std::size_t> CertificateBundle::load_authorities_from_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return security_error(errc::kIoError, "cannot read " + dir.string() + ": " + ec.message());
  }
  std::size_t added = 0;
  for (const auto& entry : it) {
    if (!entry.is_regular_file(ec)) continue;
    auto data = read_small_file(entry.path(), 32);
    if (!data || data->size() != 32 || !PublicKey::from_bytes(*data)) continue;
    PublicKeyBytes key;
    std::copy(data->begin(), data->end(), key.begin());
    if (authorities_.insert(key).second) ++added;
  }
  return added;
}

Result<std::size_t> CertificateBundle::load_certificates_from_dir(const std::filesystem::path& dir,
                                                                  UnixMillis now_ms) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return security_error(errc::kIoError, "cannot read " + dir.string() + ": " + ec.message());
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : it) {
    if (entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::size_t added = 0;
  // Delegated certificates may be listed before their issuer: retry until nothing changes.
  std::vector<MeshCertificate> pending;
  for (const auto& path : files) {
    auto data = read_small_file(path, kCertificateMinSize + 2 * kMaxIdLength);
    if (!data) continue;
    auto cert = MeshCertificate::decode(*data);
    if (cert) pending.push_back(std::move(*cert));
  }
  for (bool progress = true; progress && !pending.empty();) {
    progress = false;
    for (auto p = pending.begin(); p != pending.end();) {
      if (add_certificate(*p, now_ms)) {
        ++added;
        progress = true;
        p = pending.erase(p);
      } else {
        ++p;
      }
    }
  }
  return added;
}

}  // namespace peat::security
