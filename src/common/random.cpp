#include "peat/common/random.hpp"

#include <algorithm>
#include <cstring>

namespace peat {

std::uint64_t Rng::next_u64() {
  std::uint64_t v;
  std::uint8_t buf[8];
  fill(buf);
  std::memcpy(&v, buf, sizeof v);
  return v;
}

std::uint64_t Rng::uniform(std::uint64_t bound) {
  // Rejection sampling: no modulo bias.
  std::uint64_t limit = -bound % bound;
  for (;;) {
    std::uint64_t v = next_u64();
    if (v >= limit) return v % bound;
  }
}

double Rng::unit() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

namespace {
std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}
}  // namespace

SeededRng::SeededRng(std::uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

std::uint64_t SeededRng::next() {
  std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

void SeededRng::fill(std::span<std::uint8_t> out) {
  std::size_t i = 0;
  while (i < out.size()) {
    std::uint64_t v = next();
    std::size_t n = std::min<std::size_t>(8, out.size() - i);
    std::memcpy(out.data() + i, &v, n);
    i += n;
  }
}

}  // namespace peat
