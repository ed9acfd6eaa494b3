// The operating system's CSPRNG (libsodium randombytes_buf) behind the peat::Rng interface.
// Use it for keys and nonces; use peat::SeededRng only in tests and the simulator.
#pragma once

#include "peat/common/random.hpp"

namespace peat::security {

class OsRng final : public Rng {
 public:
  OsRng();
  void fill(std::span<std::uint8_t> out) override;
};

}  // namespace peat::security
