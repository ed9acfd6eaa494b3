// Byte writer, bounds-checked reader and error helpers for the security wire formats.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "peat/common/byte_io.hpp"
#include "peat/common/bytes.hpp"
#include "peat/common/utf8.hpp"
#include "peat/security/errors.hpp"

namespace peat::security::detail {

// The security formats are little-endian throughout.
using Writer = LeWriter;
using Reader = LeReader;

using peat::is_valid_utf8;

inline Error serialization(std::string message) {
  return security_error(errc::kSerializationError, std::move(message));
}

}  // namespace peat::security::detail
