// Randomness as protocol code sees it: passed in, never global, so tests and the simulator
// can replay a run from a seed.
#pragma once

#include <cstdint>
#include <span>

namespace peat {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;

  std::uint64_t next_u64();
  // Uniform in [0, bound); bound must be > 0.
  std::uint64_t uniform(std::uint64_t bound);
  // Uniform in [0, 1).
  double unit();
};

// Deterministic generator (xoshiro256**, seeded through splitmix64). Not for keys.
class SeededRng final : public Rng {
 public:
  explicit SeededRng(std::uint64_t seed);
  void fill(std::span<std::uint8_t> out) override;

 private:
  std::uint64_t next();
  std::uint64_t s_[4];
};

}  // namespace peat
