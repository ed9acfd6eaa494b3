#include "peat/doc/sync/bloom.hpp"

#include <gtest/gtest.h>

#include "doc/sync/test_vectors.hpp"

namespace peat::doc::sync {
namespace {

using testing::hash_of;
using testing::hex;

TEST(BloomFilter, SingleHashMatchesAutomergeVector) {
  const ChangeHash h = hash_of(testing::kChangeHashHex);
  const ChangeHash hs[] = {h};
  auto f = BloomFilter::from_hashes(hs);
  EXPECT_EQ(to_hex(f.encode()), "010a07c718");
  EXPECT_TRUE(f.contains(h));
}

TEST(BloomFilter, EmptyEncodesToNothingAndContainsNothing) {
  BloomFilter f;
  EXPECT_TRUE(f.encode().empty());
  EXPECT_FALSE(f.contains(hash_of(testing::kChangeHashHex)));
  auto d = BloomFilter::decode({});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->num_entries(), 0u);
}

TEST(BloomFilter, ContainsEveryAddedHashAndFewOthers) {
  std::vector<ChangeHash> in, out;
  for (int i = 0; i < 2000; ++i) {
    ChangeHash h{};
    for (std::size_t j = 0; j < h.size(); ++j)
      h[j] = static_cast<std::uint8_t>((i * 131 + j * 17 + i * j) ^ (i >> 3));
    h[0] = static_cast<std::uint8_t>(i);
    h[1] = static_cast<std::uint8_t>(i >> 8);
    h[5] = static_cast<std::uint8_t>(i * 7);
    (i < 1000 ? in : out).push_back(h);
  }
  auto f = BloomFilter::from_hashes(in);
  EXPECT_EQ(f.bits().size(), 1250u);
  for (const auto& h : in) EXPECT_TRUE(f.contains(h));
  int false_positives = 0;
  for (const auto& h : out) false_positives += f.contains(h) ? 1 : 0;
  EXPECT_LT(false_positives, 100);  // about 1% expected at 10 bits and 7 probes
}

TEST(BloomFilter, DecodeRoundTripsAndAcceptsOtherParameters) {
  auto d = BloomFilter::decode(hex("010a07c718"));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->contains(hash_of(testing::kChangeHashHex)));
  EXPECT_EQ(to_hex(d->encode()), "010a07c718");

  // 3 entries, 16 bits each, 2 probes: 6 bytes of bits.
  auto other = BloomFilter::decode(hex("031002ffffffffffff"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->bits_per_entry(), 16u);
  EXPECT_EQ(other->num_probes(), 2u);
  EXPECT_TRUE(other->contains(hash_of("00112233445566778899aabb")));
}

TEST(BloomFilter, DecodeRejectsBadInput) {
  for (const char* bad : {"01", "010a", "010a07", "010a07c7", "80", "ffffffffffffffffffff01",
                          "010a41c718", "0141070000000000000000000000"}) {
    auto d = BloomFilter::decode(hex(bad));
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.error().code, "INVALID_BLOOM_FILTER") << bad;
  }
  // Huge declared size must not allocate: it is checked against the input.
  auto huge = BloomFilter::decode(hex("ffffffff0f4007"));
  ASSERT_FALSE(huge.ok());
}

}  // namespace
}  // namespace peat::doc::sync
