// MeshCertificate: an authority's signature binding a public key to mesh membership (spec §2.6).
//
// subject_pk[32] ‖ mesh_id_len u8 ‖ mesh_id ‖ node_id_len u8 ‖ node_id ‖ tier u8 ‖
// permissions u8 ‖ issued_at_ms u64 ‖ expires_at_ms u64 ‖ issuer_pk[32] ‖ signature[64]
// (integers little-endian; the signature covers every byte before it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/security/keypair.hpp"

namespace peat::security {

// Lower value = more trusted.
enum class MeshTier : std::uint8_t { Enterprise = 0, Regional = 1, Tactical = 2, Edge = 3 };

std::string_view tier_name(MeshTier tier);
// Case-insensitive, surrounding whitespace ignored.
std::optional<MeshTier> parse_tier(std::string_view name);
std::optional<MeshTier> tier_from_byte(std::uint8_t b);

namespace permissions {
inline constexpr std::uint8_t kRelay = 0x01;
inline constexpr std::uint8_t kEmergency = 0x02;
inline constexpr std::uint8_t kEnroll = 0x04;
inline constexpr std::uint8_t kAdmin = 0x80;
inline constexpr std::uint8_t kStandard = kRelay | kEmergency;
inline constexpr std::uint8_t kAuthority = kRelay | kEmergency | kEnroll | kAdmin;
}  // namespace permissions

inline constexpr std::size_t kCertificateMinSize = 148;
inline constexpr std::size_t kMaxIdLength = 255;  // mesh_id and node_id are u8-length-prefixed

struct MeshCertificate {
  PublicKeyBytes subject_public_key{};
  std::string mesh_id;
  std::string node_id;
  MeshTier tier = MeshTier::Edge;
  std::uint8_t permissions = 0;
  UnixMillis issued_at_ms = 0;
  UnixMillis expires_at_ms = 0;  // 0 = never
  PublicKeyBytes issuer_public_key{};
  SignatureBytes signature{};

  // A certificate for `subject` signed by `issuer` (issuer_public_key is set from it).
  // SERIALIZATION_ERROR when mesh_id or node_id is longer than 255 bytes.
  static Result<MeshCertificate> issue(const DeviceKeypair& issuer, const PublicKeyBytes& subject,
                                       std::string mesh_id, std::string node_id, MeshTier tier,
                                       std::uint8_t permissions, UnixMillis issued_at_ms,
                                       UnixMillis expires_at_ms);
  // Self-signed, permissions AUTHORITY.
  static Result<MeshCertificate> new_root(const DeviceKeypair& authority, std::string mesh_id,
                                          std::string node_id, MeshTier tier,
                                          UnixMillis issued_at_ms, UnixMillis expires_at_ms);

  // Sets issuer_public_key to the signer's key and signs.
  Status sign_with(const DeviceKeypair& issuer);
  Result<Bytes> signable_bytes() const;
  Result<Bytes> encode() const;
  // Strict: rejects short/truncated input, bad UTF-8, unknown tier and trailing bytes.
  static Result<MeshCertificate> decode(ByteView bytes);

  // INVALID_PUBLIC_KEY (issuer key) or INVALID_SIGNATURE.
  Status verify() const;
  bool is_root() const { return subject_public_key == issuer_public_key; }
  // issued_at ≤ now and (no expiry or now < expires_at).
  bool is_valid(UnixMillis now_ms) const {
    return now_ms >= issued_at_ms && (expires_at_ms == 0 || now_ms < expires_at_ms);
  }
  // All bits of `perm` are set.
  bool has_permission(std::uint8_t perm) const { return (permissions & perm) == perm; }
  // UINT64_MAX with no expiry; 0 once expired.
  std::uint64_t time_remaining_ms(UnixMillis now_ms) const;

  bool operator==(const MeshCertificate&) const = default;
};

}  // namespace peat::security
