#include "peat/doc/sync/bloom.hpp"

#include "doc/sync/wire.hpp"

namespace peat::doc::sync {
namespace {

constexpr const char* kCode = "INVALID_BLOOM_FILTER";

std::uint64_t bits_capacity(std::uint64_t entries, std::uint64_t bits_per_entry) {
  return (entries * bits_per_entry + 7) / 8;
}

}  // namespace

template <typename Fn>
void BloomFilter::for_each_probe(const ChangeHash& hash, Fn&& fn) const {
  const std::uint64_t modulo = 8 * static_cast<std::uint64_t>(bits_.size());
  if (modulo == 0 || num_probes_ == 0) return;
  LeReader words(hash);  // the first three little-endian words of the 32-byte hash
  std::uint64_t x = *words.u32() % modulo;
  std::uint64_t y = *words.u32() % modulo;
  const std::uint64_t z = *words.u32() % modulo;
  if (!fn(x)) return;
  for (std::uint32_t i = 1; i < num_probes_; ++i) {
    x = (x + y) % modulo;
    y = (y + z) % modulo;
    if (!fn(x)) return;
  }
}

BloomFilter BloomFilter::from_hashes(std::span<const ChangeHash> hashes) {
  BloomFilter f;
  f.num_entries_ = static_cast<std::uint32_t>(hashes.size());
  f.bits_.assign(bits_capacity(hashes.size(), kBitsPerEntry), 0);
  for (const auto& h : hashes) f.add(h);
  return f;
}

void BloomFilter::add(const ChangeHash& hash) {
  for_each_probe(hash, [this](std::uint64_t p) {
    bits_[p >> 3] |= static_cast<std::uint8_t>(1u << (p & 7));
    return true;
  });
}

bool BloomFilter::contains(const ChangeHash& hash) const {
  if (num_entries_ == 0 || bits_.empty()) return false;
  bool all = true;
  for_each_probe(hash, [&](std::uint64_t p) {
    all = (bits_[p >> 3] >> (p & 7)) & 1;
    return all;
  });
  return all;
}

Result<BloomFilter> BloomFilter::decode(ByteView data) {
  BloomFilter f;
  if (data.empty()) return f;
  wire::Reader r(data, kCode);
  auto entries = r.uleb32("bloom num_entries");
  if (!entries) return entries.error();
  auto bpe = r.uleb32("bloom bits_per_entry");
  if (!bpe) return bpe.error();
  auto probes = r.uleb32("bloom num_probes");
  if (!probes) return probes.error();
  if (*bpe > kMaxBitsPerEntry) {
    return make_error(kCode, "bloom bits_per_entry " + std::to_string(*bpe) + " exceeds " +
                                 std::to_string(kMaxBitsPerEntry));
  }
  if (*probes > kMaxProbes) {
    return make_error(kCode, "bloom num_probes " + std::to_string(*probes) + " exceeds " +
                                 std::to_string(kMaxProbes));
  }
  auto bits = r.take(bits_capacity(*entries, *bpe), "bloom bits");
  if (!bits) return bits.error();
  f.num_entries_ = *entries;
  f.bits_per_entry_ = *bpe;
  f.num_probes_ = *probes;
  f.bits_.assign(bits->begin(), bits->end());
  return f;
}

Bytes BloomFilter::encode() const {
  Bytes out;
  if (num_entries_ == 0) return out;
  wire::put_uleb(out, num_entries_);
  wire::put_uleb(out, bits_per_entry_);
  wire::put_uleb(out, num_probes_);
  out.insert(out.end(), bits_.begin(), bits_.end());
  return out;
}

}  // namespace peat::doc::sync
