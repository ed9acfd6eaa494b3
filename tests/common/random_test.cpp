#include "peat/common/random.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>

namespace peat {
namespace {

TEST(SeededRng, SameSeedSameStreamDifferentSeedDifferentStream) {
  SeededRng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    auto va = a.next_u64();
    EXPECT_EQ(va, b.next_u64());
    EXPECT_NE(va, c.next_u64());
  }
}

TEST(SeededRng, UniformStaysInBoundAndCoversIt) {
  SeededRng rng(7);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    auto v = rng.uniform(10);
    ASSERT_LT(v, 10u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);
  double u = rng.unit();
  EXPECT_GE(u, 0.0);
  EXPECT_LT(u, 1.0);
}

TEST(SeededRng, FillHandlesPartialWords) {
  SeededRng rng(1);
  std::array<std::uint8_t, 13> buf{};
  rng.fill(buf);
  int nonzero = 0;
  for (auto b : buf) nonzero += b != 0;
  EXPECT_GT(nonzero, 8);
}

}  // namespace
}  // namespace peat
