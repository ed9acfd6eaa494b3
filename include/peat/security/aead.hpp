// ChaCha20-Poly1305 (IETF: 12-byte nonce, 16-byte tag appended) with explicit nonces, and the
// Rust crate's EncryptedData container (nonce ‖ ciphertext ‖ tag).
#pragma once

#include <array>
#include <cstdint>

#include "peat/common/bytes.hpp"
#include "peat/common/random.hpp"
#include "peat/security/secret.hpp"

namespace peat::security {

inline constexpr std::size_t kAeadKeySize = 32;
inline constexpr std::size_t kAeadNonceSize = 12;
inline constexpr std::size_t kAeadTagSize = 16;

using AeadNonce = std::array<std::uint8_t, kAeadNonceSize>;

// ciphertext ‖ tag. The caller guarantees a nonce is never reused with the same key.
Bytes aead_seal(const SecretKey& key, const AeadNonce& nonce, ByteView plaintext,
                ByteView aad = {});
// DECRYPTION_ERROR when the tag does not verify (wrong key, nonce, aad or tampered bytes).
Result<Bytes> aead_open(const SecretKey& key, const AeadNonce& nonce, ByteView ciphertext_and_tag,
                        ByteView aad = {});

// Nonces for one key from a 96-bit counter (little-endian), for long-lived channels where
// random nonces would risk collision. ENCRYPTION_ERROR once the counter would wrap.
class NonceCounter {
 public:
  Result<AeadNonce> next();
  std::uint64_t used() const { return counter_; }

 private:
  std::uint64_t counter_ = 0;
};

struct EncryptedData {
  AeadNonce nonce{};
  Bytes ciphertext;  // includes the 16-byte tag

  Bytes to_bytes() const;
  // SERIALIZATION_ERROR "encrypted data too short: N bytes (min 28)": a nonce and a tag at least.
  static Result<EncryptedData> from_bytes(ByteView bytes);
};

// A 32-byte ChaCha20-Poly1305 key (the Rust SymmetricKey).
class SymmetricKey {
 public:
  explicit SymmetricKey(const SecretKey& key) : key_(key) {}
  static SymmetricKey generate(Rng& rng);
  // HKDF(none, shared_secret, "peat-protocol-v1-peer"): the Rust per-peer session key.
  static SymmetricKey derive_for_peer(const SecretKey& shared_secret);

  // Random 12-byte nonce from `rng`.
  EncryptedData encrypt(ByteView plaintext, Rng& rng, ByteView aad = {}) const;
  Result<Bytes> decrypt(const EncryptedData& data, ByteView aad = {}) const;

  const SecretKey& secret() const { return key_; }

 private:
  SecretKey key_;
};

}  // namespace peat::security
