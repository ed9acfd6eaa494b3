#include "peat/security/x25519.hpp"

#include <sodium.h>

#include "peat/security/errors.hpp"
#include "security/sodium_init.hpp"

namespace peat::security {

X25519Keypair::X25519Keypair(const SecretKey& secret) : secret_(secret) {
  detail::ensure_sodium();
  crypto_scalarmult_base(public_key_.data(), secret_.data());
}

X25519Keypair X25519Keypair::generate(Rng& rng) {
  SecretKey s;
  rng.fill(s.span());
  return X25519Keypair(s);
}

Result<X25519Keypair> X25519Keypair::from_secret_bytes(ByteView secret) {
  auto s = SecretKey::from(secret);
  if (!s) {
    return security_error(errc::kKeypairError,
                          "expected 32 bytes, got " + std::to_string(secret.size()));
  }
  return X25519Keypair(*s);
}

Result<SecretKey> X25519Keypair::agree(ByteView peer_public) const {
  if (peer_public.size() != crypto_scalarmult_BYTES) {
    return security_error(errc::kKeyExchangeError, "peer public key must be 32 bytes, got " +
                                                       std::to_string(peer_public.size()));
  }
  SecretKey shared;
  // libsodium returns -1 when the result is all zeros (a low-order peer point).
  if (crypto_scalarmult(shared.data(), secret_.data(), peer_public.data()) != 0) {
    return security_error(errc::kKeyExchangeError, "peer public key has low order");
  }
  return shared;
}

Result<EphemeralAgreement> ephemeral_agree(ByteView peer_public, Rng& rng) {
  X25519Keypair eph = X25519Keypair::generate(rng);
  auto shared = eph.agree(peer_public);
  if (!shared) return shared.error();
  return EphemeralAgreement{eph.public_key(), *shared};
}

}  // namespace peat::security
