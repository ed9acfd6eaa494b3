#include "peat/security/certificate.hpp"

#include <cstdint>

#include "peat/security/errors.hpp"
#include "security/wire.hpp"

namespace peat::security {

namespace {
std::string lower_trimmed(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status check_id_lengths(const MeshCertificate& c) {
  if (c.mesh_id.size() > kMaxIdLength)
    return detail::serialization("mesh_id longer than 255 bytes");
  if (c.node_id.size() > kMaxIdLength)
    return detail::serialization("node_id longer than 255 bytes");
  return {};
}
}  // namespace

std::string_view tier_name(MeshTier tier) {
  switch (tier) {
    case MeshTier::Enterprise:
      return "Enterprise";
    case MeshTier::Regional:
      return "Regional";
    case MeshTier::Tactical:
      return "Tactical";
    case MeshTier::Edge:
      return "Edge";
  }
  return "Unknown";
}

std::optional<MeshTier> parse_tier(std::string_view name) {
  std::string n = lower_trimmed(name);
  if (n == "enterprise") return MeshTier::Enterprise;
  if (n == "regional") return MeshTier::Regional;
  if (n == "tactical") return MeshTier::Tactical;
  if (n == "edge") return MeshTier::Edge;
  return std::nullopt;
}

std::optional<MeshTier> tier_from_byte(std::uint8_t b) {
  if (b > 3) return std::nullopt;
  return static_cast<MeshTier>(b);
}

Result<MeshCertificate> MeshCertificate::issue(const DeviceKeypair& issuer,
                                               const PublicKeyBytes& subject, std::string mesh_id,
                                               std::string node_id, MeshTier tier,
                                               std::uint8_t perms, UnixMillis issued_at_ms,
                                               UnixMillis expires_at_ms) {
  MeshCertificate c;
  c.subject_public_key = subject;
  c.mesh_id = std::move(mesh_id);
  c.node_id = std::move(node_id);
  c.tier = tier;
  c.permissions = perms;
  c.issued_at_ms = issued_at_ms;
  c.expires_at_ms = expires_at_ms;
  PEAT_TRY_STATUS(c.sign_with(issuer));
  return c;
}

Result<MeshCertificate> MeshCertificate::new_root(const DeviceKeypair& authority,
                                                  std::string mesh_id, std::string node_id,
                                                  MeshTier tier, UnixMillis issued_at_ms,
                                                  UnixMillis expires_at_ms) {
  return issue(authority, authority.public_key_bytes(), std::move(mesh_id), std::move(node_id),
               tier, permissions::kAuthority, issued_at_ms, expires_at_ms);
}

Status MeshCertificate::sign_with(const DeviceKeypair& issuer) {
  issuer_public_key = issuer.public_key_bytes();
  auto body = signable_bytes();
  if (!body) return body.error();
  signature = issuer.sign(*body);
  return {};
}

Result<Bytes> MeshCertificate::signable_bytes() const {
  PEAT_TRY_STATUS(check_id_lengths(*this));
  detail::Writer w;
  w.out().reserve(kCertificateMinSize + mesh_id.size() + node_id.size());
  w.bytes(subject_public_key);
  w.u8(static_cast<std::uint8_t>(mesh_id.size()));
  w.str(mesh_id);
  w.u8(static_cast<std::uint8_t>(node_id.size()));
  w.str(node_id);
  w.u8(static_cast<std::uint8_t>(tier));
  w.u8(permissions);
  w.u64(issued_at_ms);
  w.u64(expires_at_ms);
  w.bytes(issuer_public_key);
  return w.take();
}

Result<Bytes> MeshCertificate::encode() const {
  auto body = signable_bytes();
  if (!body) return body.error();
  body->insert(body->end(), signature.begin(), signature.end());
  return body;
}

Result<MeshCertificate> MeshCertificate::decode(ByteView bytes) {
  using detail::serialization;
  if (bytes.size() < kCertificateMinSize) {
    return serialization("certificate too short: " + std::to_string(bytes.size()) +
                         " bytes (min 148)");
  }
  detail::Reader r(bytes);
  MeshCertificate c;
  c.subject_public_key = *r.array<32>();
  std::uint8_t mesh_len = *r.u8();
  auto mesh = r.take(mesh_len);
  if (!mesh || r.remaining() == 0) return serialization("certificate truncated at mesh_id");
  std::uint8_t node_len = *r.u8();
  if (r.remaining() < std::size_t{node_len} + 114) {
    return serialization("certificate truncated at node_id");
  }
  auto node = *r.take(node_len);
  if (!detail::is_valid_utf8(*mesh)) return serialization("invalid mesh_id: not UTF-8");
  if (!detail::is_valid_utf8(node)) return serialization("invalid node_id: not UTF-8");
  c.mesh_id.assign(as_chars(*mesh));
  c.node_id.assign(as_chars(node));
  auto tier = tier_from_byte(*r.u8());
  if (!tier) return serialization("invalid tier byte");
  c.tier = *tier;
  c.permissions = *r.u8();
  c.issued_at_ms = *r.u64();
  c.expires_at_ms = *r.u64();
  c.issuer_public_key = *r.array<32>();
  c.signature = *r.array<64>();
  if (r.remaining() != 0) {
    return serialization("certificate has " + std::to_string(r.remaining()) + " trailing bytes");
  }
  return c;
}

Status MeshCertificate::verify() const {
  auto body = signable_bytes();
  if (!body) return body.error();
  return verify_signature(issuer_public_key, *body, signature);
}

std::uint64_t MeshCertificate::time_remaining_ms(UnixMillis now_ms) const {
  if (expires_at_ms == 0) return UINT64_MAX;
  return expires_at_ms > now_ms ? expires_at_ms - now_ms : 0;
}

}  // namespace peat::security
