// Items and storage for negentropy set reconciliation (protocol v1, hoytech/negentropy).
// An item is (timestamp u64, 32-byte id), ordered by timestamp then id bytes. A storage is a
// sorted, duplicate-free sequence of items that can fingerprint any index range.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"

namespace peat::sync {

inline constexpr std::size_t kNegIdSize = 32;
inline constexpr std::size_t kNegFingerprintSize = 16;

using NegId = std::array<std::uint8_t, kNegIdSize>;
using NegFingerprint = std::array<std::uint8_t, kNegFingerprintSize>;

struct NegItem {
  std::uint64_t timestamp = 0;
  NegId id{};
  std::strong_ordering operator<=>(const NegItem&) const = default;
  bool operator==(const NegItem&) const = default;
};

// Sum of ids modulo 2^256 (ids read as little-endian 256-bit numbers).
class NegAccumulator {
 public:
  void add(const NegId& id);
  void add(const NegAccumulator& other);
  void subtract(const NegAccumulator& other);
  // First 16 bytes of SHA-256(sum (32 bytes LE) || varint(count)).
  NegFingerprint fingerprint(std::uint64_t count) const;

 private:
  std::array<std::uint64_t, 4> limbs_{};  // least significant first
};

// Read access the protocol needs. Indices are positions in the sorted sequence.
class NegStorage {
 public:
  virtual ~NegStorage() = default;
  virtual std::size_t size() const = 0;
  virtual const NegItem& item(std::size_t index) const = 0;
  // First index in [begin, end) whose item is >= bound, or end.
  virtual std::size_t lower_bound(std::size_t begin, std::size_t end,
                                  const NegItem& bound) const = 0;
  // Fingerprint of items [begin, end).
  virtual NegFingerprint fingerprint(std::size_t begin, std::size_t end) const = 0;
};

// Items in memory, sorted on build, with prefix sums so every fingerprint is O(1) + one SHA-256.
class NegVector final : public NegStorage {
 public:
  // Sorts the items; rejects duplicates ("DUPLICATE_ITEM").
  static Result<NegVector> build(std::vector<NegItem> items);

  std::size_t size() const override { return items_.size(); }
  const NegItem& item(std::size_t index) const override { return items_[index]; }
  std::size_t lower_bound(std::size_t begin, std::size_t end, const NegItem& bound) const override;
  NegFingerprint fingerprint(std::size_t begin, std::size_t end) const override;
  const std::vector<NegItem>& items() const { return items_; }

 private:
  std::vector<NegItem> items_;
  std::vector<NegAccumulator> prefix_;  // prefix_[i] = sum of ids [0, i)
};

// A window [begin, end) of another storage seen as a whole storage, e.g. to reconcile only the
// items of a time range (find the indices with lower_bound on {timestamp, zero id}).
class NegSubRange final : public NegStorage {
 public:
  // "INVALID_ARGUMENT" unless begin <= end <= base.size(). `base` must outlive the view.
  static Result<NegSubRange> create(const NegStorage& base, std::size_t begin, std::size_t end);
  // Items with from <= timestamp < to.
  static NegSubRange time_window(const NegStorage& base, std::uint64_t from, std::uint64_t to);

  std::size_t size() const override { return end_ - begin_; }
  const NegItem& item(std::size_t index) const override { return base_->item(begin_ + index); }
  std::size_t lower_bound(std::size_t begin, std::size_t end, const NegItem& bound) const override {
    return base_->lower_bound(begin_ + begin, begin_ + end, bound) - begin_;
  }
  NegFingerprint fingerprint(std::size_t begin, std::size_t end) const override {
    return base_->fingerprint(begin_ + begin, begin_ + end);
  }

 private:
  NegSubRange(const NegStorage& base, std::size_t begin, std::size_t end)
      : base_(&base), begin_(begin), end_(end) {}
  const NegStorage* base_;
  std::size_t begin_;
  std::size_t end_;
};

// Varints as negentropy writes them: base-128, most significant group first, high bit = more.
void neg_encode_varint(std::uint64_t value, Bytes& out);

}  // namespace peat::sync
