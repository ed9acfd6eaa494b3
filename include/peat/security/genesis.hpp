// Mesh genesis (the root secret of a formation) and the shareable MeshCredentials (spec §2.8).
//
// MeshGenesis:     name_len u16 ‖ name ‖ mesh_seed[32] ‖ authority_seed[32] ‖ created_at_ms u64 ‖
//                  policy u8                                                  (SECRET)
// MeshCredentials: name_len u16 ‖ name ‖ mesh_id[8 ASCII] ‖ formation_secret[32] ‖
//                  authority_pk[32] ‖ policy u8                               (shareable, but the
//                  formation secret in it admits the holder to the formation)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "peat/common/bytes.hpp"
#include "peat/common/clock.hpp"
#include "peat/common/random.hpp"
#include "peat/security/certificate.hpp"

namespace peat::security {

enum class MembershipPolicy : std::uint8_t { Open = 0, Controlled = 1, Strict = 2 };
std::string_view policy_name(MembershipPolicy p);
std::optional<MembershipPolicy> parse_policy(std::string_view name);  // case-insensitive
std::optional<MembershipPolicy> policy_from_byte(std::uint8_t b);

inline constexpr std::size_t kGenesisMinSize = 75;
inline constexpr std::size_t kCredentialsMinSize = 75;

struct MeshCredentials {
  std::string mesh_id;  // 8 uppercase hex characters
  std::string mesh_name;
  SecretKey formation_secret;
  PublicKeyBytes authority_public_key{};
  MembershipPolicy policy = MembershipPolicy::Controlled;

  Result<SecretBytes> encode() const;
  // Also requires mesh_id to be 8 uppercase hex characters.
  static Result<MeshCredentials> decode(ByteView bytes);
};

class MeshGenesis {
 public:
  static MeshGenesis create(std::string mesh_name, MembershipPolicy policy, Rng& rng,
                            UnixMillis now_ms);
  // Authority = DeviceKeypair::from_seed(seed, "peat-mesh:authority-keypair").
  static MeshGenesis with_seed(std::string mesh_name, const SecretKey& seed,
                               MembershipPolicy policy, UnixMillis now_ms);
  static MeshGenesis with_authority(std::string mesh_name, const SecretKey& seed,
                                    DeviceKeypair authority, MembershipPolicy policy,
                                    UnixMillis now_ms);

  // First 4 bytes of HKDF(salt = name, ikm = seed, "peat-mesh:mesh-id"), uppercase hex.
  std::string mesh_id() const;
  // HKDF(salt = name, ikm = seed, "peat-mesh:formation-secret").
  SecretKey formation_secret() const;

  const std::string& mesh_name() const { return mesh_name_; }
  const SecretKey& mesh_seed() const { return seed_; }
  const DeviceKeypair& authority() const { return authority_; }
  const PublicKeyBytes& authority_public_key() const { return authority_.public_key_bytes(); }
  UnixMillis created_at_ms() const { return created_at_ms_; }
  MembershipPolicy policy() const { return policy_; }

  // Self-signed, Enterprise, AUTHORITY permissions, no expiry.
  Result<MeshCertificate> root_certificate(std::string node_id, UnixMillis now_ms) const;
  // validity_ms 0 = no expiry.
  Result<MeshCertificate> issue_certificate(const PublicKeyBytes& subject, std::string node_id,
                                            MeshTier tier, std::uint8_t permissions,
                                            UnixMillis validity_ms, UnixMillis now_ms) const;
  MeshCredentials credentials() const;

  // SERIALIZATION_ERROR if the name is longer than 65,535 bytes.
  Result<SecretBytes> encode() const;
  static Result<MeshGenesis> decode(ByteView bytes);

  // Name, mesh id, authority device id, policy; never the seed.
  std::string to_string() const;

 private:
  MeshGenesis(std::string name, const SecretKey& seed, DeviceKeypair authority,
              MembershipPolicy policy, UnixMillis created_at_ms);
  std::string mesh_name_;
  SecretKey seed_;
  DeviceKeypair authority_;
  UnixMillis created_at_ms_;
  MembershipPolicy policy_;
};

}  // namespace peat::security
