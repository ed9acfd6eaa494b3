#include "peat/security/aead.hpp"

#include <sodium.h>

#include "peat/security/errors.hpp"
#include "peat/security/hkdf.hpp"
#include "security/sodium_init.hpp"

namespace peat::security {

static_assert(kAeadKeySize == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(kAeadNonceSize == crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
static_assert(kAeadTagSize == crypto_aead_chacha20poly1305_ietf_ABYTES);

Bytes aead_seal(const SecretKey& key, const AeadNonce& nonce, ByteView plaintext, ByteView aad) {
  detail::ensure_sodium();
  Bytes out(plaintext.size() + kAeadTagSize);
  unsigned long long out_len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &out_len, plaintext.data(),
                                            plaintext.size(), aad.data(), aad.size(), nullptr,
                                            nonce.data(), key.data());
  out.resize(static_cast<std::size_t>(out_len));
  return out;
}

Result<Bytes> aead_open(const SecretKey& key, const AeadNonce& nonce, ByteView ciphertext_and_tag,
                        ByteView aad) {
  detail::ensure_sodium();
  if (ciphertext_and_tag.size() < kAeadTagSize) {
    return security_error(errc::kDecryptionError, "ciphertext shorter than the 16-byte tag");
  }
  Bytes out(ciphertext_and_tag.size() - kAeadTagSize);
  unsigned long long out_len = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(
          out.data(), &out_len, nullptr, ciphertext_and_tag.data(), ciphertext_and_tag.size(),
          aad.data(), aad.size(), nonce.data(), key.data()) != 0) {
    return security_error(errc::kDecryptionError, "authentication failed");
  }
  out.resize(static_cast<std::size_t>(out_len));
  return out;
}

Result<AeadNonce> NonceCounter::next() {
  if (counter_ == UINT64_MAX) {
    return security_error(errc::kEncryptionError, "nonce counter exhausted; rotate the key");
  }
  AeadNonce nonce{};
  for (int i = 0; i < 8; ++i)
    nonce[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter_ >> (8 * i));
  ++counter_;
  return nonce;
}

Bytes EncryptedData::to_bytes() const {
  Bytes out(nonce.begin(), nonce.end());
  out.insert(out.end(), ciphertext.begin(), ciphertext.end());
  return out;
}

Result<EncryptedData> EncryptedData::from_bytes(ByteView bytes) {
  if (bytes.size() < kAeadNonceSize + kAeadTagSize) {
    return security_error(
        errc::kSerializationError,
        "encrypted data too short: " + std::to_string(bytes.size()) + " bytes (min 28)");
  }
  EncryptedData d;
  std::copy_n(bytes.begin(), kAeadNonceSize, d.nonce.begin());
  d.ciphertext.assign(bytes.begin() + kAeadNonceSize, bytes.end());
  return d;
}

SymmetricKey SymmetricKey::generate(Rng& rng) {
  SecretKey k;
  rng.fill(k.span());
  return SymmetricKey(k);
}

SymmetricKey SymmetricKey::derive_for_peer(const SecretKey& shared_secret) {
  return SymmetricKey(hkdf32({}, shared_secret.view(), as_bytes("peat-protocol-v1-peer")));
}

EncryptedData SymmetricKey::encrypt(ByteView plaintext, Rng& rng, ByteView aad) const {
  EncryptedData d;
  rng.fill(d.nonce);
  d.ciphertext = aead_seal(key_, d.nonce, plaintext, aad);
  return d;
}

Result<Bytes> SymmetricKey::decrypt(const EncryptedData& data, ByteView aad) const {
  return aead_open(key_, data.nonce, data.ciphertext, aad);
}

}  // namespace peat::security
