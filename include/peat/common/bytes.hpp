// Byte buffers and the text encodings of bytes (hex, base64) used across the project.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "peat/common/result.hpp"

namespace peat {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes to_bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

// Lowercase hex.
std::string to_hex(ByteView data);
// Accepts upper and lower case; rejects odd length and non-hex characters ("INVALID_HEX").
Result<Bytes> from_hex(std::string_view text);

// Standard base64 with padding (RFC 4648 section 4).
std::string to_base64(ByteView data);
// Strict standard base64: padding required, no whitespace inside ("INVALID_BASE64").
Result<Bytes> from_base64(std::string_view text);

}  // namespace peat
