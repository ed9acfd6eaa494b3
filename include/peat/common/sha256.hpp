// SHA-256 (nettle; uses SHA-NI where the CPU has it). Incremental and one-shot.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "peat/common/bytes.hpp"

namespace peat {

using Sha256Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(ByteView data);
  // Returns the digest and resets the hasher for reuse.
  Sha256Digest finish();

  static Sha256Digest digest(ByteView data);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace peat
