#include "peat/security/genesis.hpp"

#include "peat/security/errors.hpp"
#include "peat/security/hkdf.hpp"
#include "security/wire.hpp"

namespace peat::security {

using detail::serialization;

namespace {
constexpr std::string_view kMeshIdInfo = "peat-mesh:mesh-id";
constexpr std::string_view kFormationSecretInfo = "peat-mesh:formation-secret";
constexpr std::string_view kAuthorityContext = "peat-mesh:authority-keypair";

bool is_upper_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

// name_len u16 ‖ name, shared by both encodings.
Result<std::string> read_name(detail::Reader& r, std::size_t fixed_tail, std::string_view what) {
  auto len = *r.u16();
  if (r.remaining() < std::size_t{len} + fixed_tail) {
    return serialization(std::string(what) + " truncated at mesh_name");
  }
  auto name = *r.take(len);
  if (!detail::is_valid_utf8(name)) return serialization("invalid mesh_name: not UTF-8");
  if (r.remaining() != fixed_tail) {
    return serialization(std::string(what) + " has " + std::to_string(r.remaining() - fixed_tail) +
                         " trailing bytes");
  }
  return std::string(as_chars(name));
}
}  // namespace

std::string_view policy_name(MembershipPolicy p) {
  switch (p) {
    case MembershipPolicy::Open:
      return "Open";
    case MembershipPolicy::Controlled:
      return "Controlled";
    case MembershipPolicy::Strict:
      return "Strict";
  }
  return "Unknown";
}

std::optional<MembershipPolicy> parse_policy(std::string_view name) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!name.empty() && space(name.front())) name.remove_prefix(1);
  while (!name.empty() && space(name.back())) name.remove_suffix(1);
  std::string n(name);
  for (char& c : n) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (n == "open") return MembershipPolicy::Open;
  if (n == "controlled") return MembershipPolicy::Controlled;
  if (n == "strict") return MembershipPolicy::Strict;
  return std::nullopt;
}

std::optional<MembershipPolicy> policy_from_byte(std::uint8_t b) {
  if (b > 2) return std::nullopt;
  return static_cast<MembershipPolicy>(b);
}

// --- MeshCredentials ------------------------------------------------------------------------

Result<SecretBytes> MeshCredentials::encode() const {
  if (mesh_name.size() > 0xFFFF) return serialization("mesh_name longer than 65535 bytes");
  if (mesh_id.size() != 8) return serialization("mesh_id must be 8 characters");
  detail::Writer w;
  w.out().reserve(kCredentialsMinSize + mesh_name.size());
  w.u16(static_cast<std::uint16_t>(mesh_name.size()));
  w.str(mesh_name);
  w.str(mesh_id);
  w.bytes(formation_secret.view());
  w.bytes(authority_public_key);
  w.u8(static_cast<std::uint8_t>(policy));
  return SecretBytes::adopt(w.take());
}

Result<MeshCredentials> MeshCredentials::decode(ByteView bytes) {
  if (bytes.size() < kCredentialsMinSize) {
    return serialization("credentials too short: " + std::to_string(bytes.size()) +
                         " bytes (min 75)");
  }
  detail::Reader r(bytes);
  auto name = read_name(r, 8 + 32 + 32 + 1, "credentials");
  if (!name) return name.error();
  MeshCredentials c;
  c.mesh_name = std::move(*name);
  c.mesh_id.assign(as_chars(*r.take(8)));
  if (!is_upper_hex(c.mesh_id)) return serialization("invalid mesh_id: not 8 uppercase hex digits");
  c.formation_secret = *SecretKey::from(*r.take(32));
  c.authority_public_key = *r.array<32>();
  auto policy = policy_from_byte(*r.u8());
  if (!policy) return serialization("invalid policy byte");
  c.policy = *policy;
  return c;
}

// --- MeshGenesis ----------------------------------------------------------------------------

MeshGenesis::MeshGenesis(std::string name, const SecretKey& seed, DeviceKeypair authority,
                         MembershipPolicy policy, UnixMillis created_at_ms)
    : mesh_name_(std::move(name)),
      seed_(seed),
      authority_(std::move(authority)),
      created_at_ms_(created_at_ms),
      policy_(policy) {}

MeshGenesis MeshGenesis::create(std::string mesh_name, MembershipPolicy policy, Rng& rng,
                                UnixMillis now_ms) {
  SecretKey seed;
  rng.fill(seed.span());
  return with_seed(std::move(mesh_name), seed, policy, now_ms);
}

MeshGenesis MeshGenesis::with_seed(std::string mesh_name, const SecretKey& seed,
                                   MembershipPolicy policy, UnixMillis now_ms) {
  return MeshGenesis(std::move(mesh_name), seed,
                     DeviceKeypair::from_seed(seed.view(), kAuthorityContext), policy, now_ms);
}

MeshGenesis MeshGenesis::with_authority(std::string mesh_name, const SecretKey& seed,
                                        DeviceKeypair authority, MembershipPolicy policy,
                                        UnixMillis now_ms) {
  return MeshGenesis(std::move(mesh_name), seed, std::move(authority), policy, now_ms);
}

std::string MeshGenesis::mesh_id() const {
  SecretKey okm = hkdf32(as_bytes(mesh_name_), seed_.view(), as_bytes(kMeshIdInfo));
  std::string hex = to_hex(okm.view().first(4));
  for (char& c : hex) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  return hex;
}

SecretKey MeshGenesis::formation_secret() const {
  return hkdf32(as_bytes(mesh_name_), seed_.view(), as_bytes(kFormationSecretInfo));
}

Result<MeshCertificate> MeshGenesis::root_certificate(std::string node_id,
                                                      UnixMillis now_ms) const {
  return MeshCertificate::new_root(authority_, mesh_id(), std::move(node_id), MeshTier::Enterprise,
                                   now_ms, 0);
}

Result<MeshCertificate> MeshGenesis::issue_certificate(const PublicKeyBytes& subject,
                                                       std::string node_id, MeshTier tier,
                                                       std::uint8_t perms, UnixMillis validity_ms,
                                                       UnixMillis now_ms) const {
  UnixMillis expires = 0;
  if (validity_ms != 0)
    expires = now_ms > UINT64_MAX - validity_ms ? UINT64_MAX : now_ms + validity_ms;
  return MeshCertificate::issue(authority_, subject, mesh_id(), std::move(node_id), tier, perms,
                                now_ms, expires);
}

MeshCredentials MeshGenesis::credentials() const {
  MeshCredentials c;
  c.mesh_id = mesh_id();
  c.mesh_name = mesh_name_;
  c.formation_secret = formation_secret();
  c.authority_public_key = authority_public_key();
  c.policy = policy_;
  return c;
}

Result<SecretBytes> MeshGenesis::encode() const {
  if (mesh_name_.size() > 0xFFFF) return serialization("mesh_name longer than 65535 bytes");
  detail::Writer w;
  w.out().reserve(kGenesisMinSize + mesh_name_.size());
  w.u16(static_cast<std::uint16_t>(mesh_name_.size()));
  w.str(mesh_name_);
  w.bytes(seed_.view());
  w.bytes(authority_.secret_bytes().view());
  w.u64(created_at_ms_);
  w.u8(static_cast<std::uint8_t>(policy_));
  return SecretBytes::adopt(w.take());
}

Result<MeshGenesis> MeshGenesis::decode(ByteView bytes) {
  if (bytes.size() < kGenesisMinSize) {
    return serialization("genesis too short: " + std::to_string(bytes.size()) + " bytes (min 75)");
  }
  detail::Reader r(bytes);
  auto name = read_name(r, 32 + 32 + 8 + 1, "genesis");
  if (!name) return name.error();
  SecretKey seed = *SecretKey::from(*r.take(32));
  auto authority = DeviceKeypair::from_secret_bytes(*r.take(32));
  if (!authority) return authority.error();
  UnixMillis created = *r.u64();
  auto policy = policy_from_byte(*r.u8());
  if (!policy) return serialization("invalid policy byte");
  return MeshGenesis(std::move(*name), seed, std::move(*authority), *policy, created);
}

std::string MeshGenesis::to_string() const {
  return "MeshGenesis { mesh_name: \"" + mesh_name_ + "\", mesh_id: " + mesh_id() +
         ", authority_device_id: " + authority_.device_id().to_hex() +
         ", created_at_ms: " + std::to_string(created_at_ms_) +
         ", policy: " + std::string(policy_name(policy_)) + ", mesh_seed: [REDACTED] }";
}

}  // namespace peat::security
