// Ed25519 device identity (libsodium). The private key is the 32-byte RFC 8032 seed.
#pragma once

#include <array>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <string_view>

#include "peat/common/bytes.hpp"
#include "peat/common/random.hpp"
#include "peat/security/device_id.hpp"
#include "peat/security/secret.hpp"

namespace peat::security {

using PublicKeyBytes = std::array<std::uint8_t, 32>;
using SignatureBytes = std::array<std::uint8_t, 64>;

// A validated Ed25519 public key: 32 bytes that decode to a point of the prime-order subgroup
// (crypto_core_ed25519_is_valid_point; small-order and non-canonical encodings are rejected).
class PublicKey {
 public:
  // INVALID_PUBLIC_KEY on wrong length or an invalid point.
  static Result<PublicKey> from_bytes(ByteView bytes);
  static Result<PublicKey> from_hex(std::string_view hex);

  const PublicKeyBytes& bytes() const { return bytes_; }
  ByteView view() const { return bytes_; }
  std::string to_hex() const;
  DeviceId device_id() const;

  // INVALID_SIGNATURE when `signature` is not a valid signature of `message` by this key.
  Status verify(ByteView message, const SignatureBytes& signature) const;

  bool operator==(const PublicKey&) const = default;
  auto operator<=>(const PublicKey&) const = default;

 private:
  explicit PublicKey(const PublicKeyBytes& b) : bytes_(b) {}
  friend class DeviceKeypair;
  PublicKeyBytes bytes_;
};

// Exactly 64 bytes, else INVALID_SIGNATURE.
Result<SignatureBytes> signature_from_bytes(ByteView bytes);
// INVALID_PUBLIC_KEY (wrong length / invalid point) or INVALID_SIGNATURE. The full point
// validation only runs when verification fails, so valid signatures cost one verify.
Status verify_signature(ByteView public_key, ByteView message, ByteView signature);

class DeviceKeypair {
 public:
  // A new key from the OS CSPRNG.
  static DeviceKeypair generate();
  // A new key from `rng` (deterministic with a SeededRng: tests and simulation only).
  static DeviceKeypair generate(Rng& rng);
  // From the 32-byte seed; KEYPAIR_ERROR "expected 32 bytes, got N" otherwise.
  static Result<DeviceKeypair> from_secret_bytes(ByteView secret);
  // seed' = HKDF-SHA256(salt = none, ikm = seed, info = context); deterministic, any seed length.
  static DeviceKeypair from_seed(ByteView seed, std::string_view context);

  // Reads a raw 32-byte seed. IO_ERROR if missing/unreadable; KEYPAIR_ERROR on a wrong length
  // or when the file is readable or writable by group/others (it must be 0600 or stricter).
  static Result<DeviceKeypair> load_from_file(const std::filesystem::path& path);
  // Writes the raw seed with mode 0600, atomically (temporary file in the same folder, fsync,
  // rename). Never leaves a partial key file behind.
  Status save_to_file(const std::filesystem::path& path) const;

  SignatureBytes sign(ByteView message) const;
  Status verify(ByteView message, const SignatureBytes& signature) const {
    return public_key_.verify(message, signature);
  }

  const PublicKey& public_key() const { return public_key_; }
  const PublicKeyBytes& public_key_bytes() const { return public_key_.bytes(); }
  // The 32-byte seed (the secret). Handle with care.
  const SecretKey& secret_bytes() const { return seed_; }
  DeviceId device_id() const;

  // "DeviceKeypair { device_id: …, secret: [REDACTED] }" — never key bytes.
  std::string to_string() const;

 private:
  explicit DeviceKeypair(const SecretKey& seed);
  SecretKey seed_;
  SecretArray<64> signing_key_;  // libsodium layout: seed ‖ public key
  PublicKey public_key_;
};

std::ostream& operator<<(std::ostream& os, const DeviceKeypair& kp);

}  // namespace peat::security
