// X25519 key agreement (libsodium crypto_scalarmult), static and ephemeral.
#pragma once

#include <array>

#include "peat/common/bytes.hpp"
#include "peat/common/random.hpp"
#include "peat/security/secret.hpp"

namespace peat::security {

using X25519PublicKey = std::array<std::uint8_t, 32>;

class X25519Keypair {
 public:
  static X25519Keypair generate(Rng& rng);
  // Exactly 32 bytes, else KEYPAIR_ERROR.
  static Result<X25519Keypair> from_secret_bytes(ByteView secret);

  const X25519PublicKey& public_key() const { return public_key_; }
  const SecretKey& secret_bytes() const { return secret_; }

  // Raw shared secret. KEY_EXCHANGE_ERROR on a wrong-length peer key or when the result is all
  // zeros (low-order peer point) — the Rust crate does not check this.
  Result<SecretKey> agree(ByteView peer_public) const;

 private:
  explicit X25519Keypair(const SecretKey& secret);
  SecretKey secret_;
  X25519PublicKey public_key_{};
};

// One-shot ephemeral agreement: a fresh key pair whose public half goes to the peer.
struct EphemeralAgreement {
  X25519PublicKey ephemeral_public{};
  SecretKey shared_secret;
};
Result<EphemeralAgreement> ephemeral_agree(ByteView peer_public, Rng& rng);

}  // namespace peat::security
