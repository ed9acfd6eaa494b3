#include "peat/security/secret.hpp"

#include <sodium.h>

namespace peat::security {

bool constant_time_equal(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void secure_wipe(std::span<std::uint8_t> data) {
  if (!data.empty()) sodium_memzero(data.data(), data.size());
}

}  // namespace peat::security
