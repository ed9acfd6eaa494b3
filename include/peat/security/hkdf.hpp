// HMAC-SHA256 and HKDF-SHA256 (RFC 5869), built on libsodium's HMAC-SHA256
// (libsodium 1.0.18 has no HKDF).
#pragma once

#include <initializer_list>

#include "peat/common/sha256.hpp"
#include "peat/security/secret.hpp"

namespace peat::security {

inline constexpr std::size_t kHkdfMaxOutput = 255 * 32;

// HMAC-SHA256(key, part1 ‖ part2 ‖ ...). Any key length.
Sha256Digest hmac_sha256(ByteView key, std::initializer_list<ByteView> parts);
inline Sha256Digest hmac_sha256(ByteView key, ByteView message) {
  return hmac_sha256(key, {message});
}

// HKDF-Extract. An empty salt is the RFC default (32 zero bytes give the same HMAC key).
SecretKey hkdf_extract(ByteView salt, ByteView ikm);
// HKDF-Expand to `length` bytes; more than 255*32 is an error (SERIALIZATION_ERROR is wrong
// here, so INTERNAL_ERROR: it is always a programming error).
Result<SecretBytes> hkdf_expand(ByteView prk, ByteView info, std::size_t length);
// Extract then expand.
Result<SecretBytes> hkdf(ByteView salt, ByteView ikm, ByteView info, std::size_t length);
// The 32-byte form every derivation in peat-mesh uses (cannot fail).
SecretKey hkdf32(ByteView salt, ByteView ikm, ByteView info);

}  // namespace peat::security
