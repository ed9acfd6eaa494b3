// Bloom filter over change hashes, as carried in the "have" entries of Automerge sync messages.
#pragma once

#include <cstdint>
#include <span>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/doc/types.hpp"

namespace peat::doc::sync {

class BloomFilter {
 public:
  static constexpr std::uint32_t kBitsPerEntry = 10;
  static constexpr std::uint32_t kNumProbes = 7;
  // Decoders refuse filters declaring more probes or bits per entry than this (the reference
  // implementation always uses 7 and 10): bounds the work done per lookup.
  static constexpr std::uint32_t kMaxProbes = 64;
  static constexpr std::uint32_t kMaxBitsPerEntry = 64;

  // The empty filter: encodes to zero bytes and contains nothing.
  BloomFilter() = default;
  // A filter sized for `hashes` (10 bits per entry, 7 probes) with every hash added.
  static BloomFilter from_hashes(std::span<const ChangeHash> hashes);
  // Empty input is the empty filter. Otherwise uLEB num_entries, bits_per_entry, num_probes and
  // ceil(num_entries * bits_per_entry / 8) bytes of bits. Bytes after the bits are ignored.
  // Errors: "INVALID_BLOOM_FILTER".
  static Result<BloomFilter> decode(ByteView data);

  Bytes encode() const;
  // False when the filter has no entries; otherwise true when every probe bit is set.
  bool contains(const ChangeHash& hash) const;

  std::uint32_t num_entries() const { return num_entries_; }
  std::uint32_t bits_per_entry() const { return bits_per_entry_; }
  std::uint32_t num_probes() const { return num_probes_; }
  const Bytes& bits() const { return bits_; }

  bool operator==(const BloomFilter&) const = default;

 private:
  void add(const ChangeHash& hash);
  template <typename Fn>
  void for_each_probe(const ChangeHash& hash, Fn&& fn) const;

  std::uint32_t num_entries_ = 0;
  std::uint32_t bits_per_entry_ = kBitsPerEntry;
  std::uint32_t num_probes_ = kNumProbes;
  Bytes bits_;
};

}  // namespace peat::doc::sync
