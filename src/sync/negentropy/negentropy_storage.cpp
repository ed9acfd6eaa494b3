#include "peat/sync/negentropy_storage.hpp"

#include <algorithm>

#include "peat/common/byte_io.hpp"
#include "peat/common/sha256.hpp"

namespace peat::sync {

void neg_encode_varint(std::uint64_t value, Bytes& out) {
  std::uint8_t groups[10];
  int n = 0;
  do {
    groups[n++] = static_cast<std::uint8_t>(value & 0x7F);
    value >>= 7;
  } while (value != 0);
  for (int i = n - 1; i >= 0; --i) {
    out.push_back(static_cast<std::uint8_t>(groups[i] | (i > 0 ? 0x80 : 0x00)));
  }
}

void NegAccumulator::add(const NegId& id) {
  LeReader limbs(id);  // 32 bytes: four little-endian limbs
  std::uint64_t carry = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    std::uint64_t other = *limbs.u64();
    std::uint64_t sum = limbs_[i] + other;
    std::uint64_t c1 = sum < other ? 1 : 0;
    std::uint64_t sum2 = sum + carry;
    std::uint64_t c2 = sum2 < sum ? 1 : 0;
    limbs_[i] = sum2;
    carry = c1 | c2;
  }
}

void NegAccumulator::add(const NegAccumulator& other) {
  std::uint64_t carry = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    std::uint64_t sum = limbs_[i] + other.limbs_[i];
    std::uint64_t c1 = sum < other.limbs_[i] ? 1 : 0;
    std::uint64_t sum2 = sum + carry;
    std::uint64_t c2 = sum2 < sum ? 1 : 0;
    limbs_[i] = sum2;
    carry = c1 | c2;
  }
}

void NegAccumulator::subtract(const NegAccumulator& other) {
  std::uint64_t borrow = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    std::uint64_t a = limbs_[i];
    std::uint64_t d = a - other.limbs_[i];
    std::uint64_t b1 = a < other.limbs_[i] ? 1 : 0;
    std::uint64_t d2 = d - borrow;
    std::uint64_t b2 = d < borrow ? 1 : 0;
    limbs_[i] = d2;
    borrow = b1 | b2;
  }
}

NegFingerprint NegAccumulator::fingerprint(std::uint64_t count) const {
  LeWriter w;
  w.out().reserve(32 + 10);
  for (std::uint64_t limb : limbs_) w.u64(limb);
  neg_encode_varint(count, w.out());
  Sha256Digest digest = Sha256::digest(w.out());
  NegFingerprint out;
  std::copy_n(digest.begin(), out.size(), out.begin());
  return out;
}

Result<NegVector> NegVector::build(std::vector<NegItem> items) {
  std::sort(items.begin(), items.end());
  if (std::adjacent_find(items.begin(), items.end()) != items.end()) {
    return make_error("DUPLICATE_ITEM", "negentropy storage holds the same item twice");
  }
  NegVector v;
  v.prefix_.resize(items.size() + 1);
  for (std::size_t i = 0; i < items.size(); ++i) {
    v.prefix_[i + 1] = v.prefix_[i];
    v.prefix_[i + 1].add(items[i].id);
  }
  v.items_ = std::move(items);
  return v;
}

std::size_t NegVector::lower_bound(std::size_t begin, std::size_t end, const NegItem& bound) const {
  auto it = std::lower_bound(items_.begin() + static_cast<std::ptrdiff_t>(begin),
                             items_.begin() + static_cast<std::ptrdiff_t>(end), bound);
  return static_cast<std::size_t>(it - items_.begin());
}

NegFingerprint NegVector::fingerprint(std::size_t begin, std::size_t end) const {
  NegAccumulator acc = prefix_[end];
  acc.subtract(prefix_[begin]);
  return acc.fingerprint(end - begin);
}

Result<NegSubRange> NegSubRange::create(const NegStorage& base, std::size_t begin,
                                        std::size_t end) {
  if (begin > end || end > base.size()) {
    return make_error("INVALID_ARGUMENT", "sub-range outside its storage");
  }
  return NegSubRange(base, begin, end);
}

NegSubRange NegSubRange::time_window(const NegStorage& base, std::uint64_t from, std::uint64_t to) {
  std::size_t b = base.lower_bound(0, base.size(), NegItem{from, {}});
  std::size_t e = to <= from ? b : base.lower_bound(b, base.size(), NegItem{to, {}});
  return NegSubRange(base, b, e);
}

}  // namespace peat::sync
