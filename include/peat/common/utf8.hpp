// Strict UTF-8 validation for text fields of wire formats.
#pragma once

#include <string_view>

#include "peat/common/bytes.hpp"

namespace peat {

// True for well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF, no truncated sequences.
bool is_valid_utf8(ByteView text);
inline bool is_valid_utf8(std::string_view text) {
  return is_valid_utf8(as_bytes(text));
}

}  // namespace peat
