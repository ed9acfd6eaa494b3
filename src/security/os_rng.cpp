#include "peat/security/os_rng.hpp"

#include <sodium.h>

#include <cstdlib>

#include "security/sodium_init.hpp"

namespace peat::security {

namespace detail {
void ensure_sodium() {
  static const bool ready = [] { return sodium_init() >= 0; }();
  if (!ready) std::abort();  // no usable random source: nothing secure can run
}

}  // namespace detail

OsRng::OsRng() {
  detail::ensure_sodium();
}

void OsRng::fill(std::span<std::uint8_t> out) {
  if (!out.empty()) randombytes_buf(out.data(), out.size());
}

}  // namespace peat::security
