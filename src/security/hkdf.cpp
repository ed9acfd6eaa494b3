#include "peat/security/hkdf.hpp"

#include <sodium.h>

#include <algorithm>

#include "peat/security/errors.hpp"

namespace peat::security {

Sha256Digest hmac_sha256(ByteView key, std::initializer_list<ByteView> parts) {
  crypto_auth_hmacsha256_state state;
  // libsodium declares the key pointer non-null even for an empty key.
  static const std::uint8_t kNoKey = 0;
  crypto_auth_hmacsha256_init(&state, key.empty() ? &kNoKey : key.data(), key.size());
  for (ByteView part : parts) {
    if (!part.empty()) crypto_auth_hmacsha256_update(&state, part.data(), part.size());
  }
  Sha256Digest out;
  crypto_auth_hmacsha256_final(&state, out.data());
  sodium_memzero(&state, sizeof state);
  return out;
}

SecretKey hkdf_extract(ByteView salt, ByteView ikm) {
  // HMAC pads its key with zeros to the block size, so an empty salt equals 32 zero bytes.
  Sha256Digest prk = hmac_sha256(salt, ikm);
  SecretKey out = *SecretKey::from(prk);
  sodium_memzero(prk.data(), prk.size());
  return out;
}

namespace {
void expand_into(ByteView prk, ByteView info, std::span<std::uint8_t> out) {
  Sha256Digest block{};
  std::size_t done = 0;
  std::uint8_t counter = 1;
  while (done < out.size()) {
    const std::uint8_t c[1] = {counter};
    ByteView previous = done == 0 ? ByteView{} : ByteView{block};
    block = hmac_sha256(prk, {previous, info, ByteView{c}});
    std::size_t n = std::min(block.size(), out.size() - done);
    std::copy_n(block.begin(), n, out.begin() + static_cast<std::ptrdiff_t>(done));
    done += n;
    ++counter;
  }
  sodium_memzero(block.data(), block.size());
}
}  // namespace

Result<SecretBytes> hkdf_expand(ByteView prk, ByteView info, std::size_t length) {
  if (length > kHkdfMaxOutput) {
    return security_error(errc::kInternalError,
                          "HKDF output of " + std::to_string(length) + " bytes exceeds 8160");
  }
  SecretBytes out(length);
  expand_into(prk, info, out.span());
  return out;
}

Result<SecretBytes> hkdf(ByteView salt, ByteView ikm, ByteView info, std::size_t length) {
  SecretKey prk = hkdf_extract(salt, ikm);
  return hkdf_expand(prk.view(), info, length);
}

SecretKey hkdf32(ByteView salt, ByteView ikm, ByteView info) {
  SecretKey prk = hkdf_extract(salt, ikm);
  SecretKey out;
  expand_into(prk.view(), info, out.span());
  return out;
}

}  // namespace peat::security
