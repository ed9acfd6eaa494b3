#include "peat/sync/negentropy.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "peat/common/byte_io.hpp"

namespace peat::sync {

namespace {

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();
constexpr std::size_t kBuckets = 16;
constexpr std::uint64_t kModeSkip = 0;
constexpr std::uint64_t kModeFingerprint = 1;
constexpr std::uint64_t kModeIdList = 2;

Error decode_error(const std::string& what) {
  return make_error("NEGENTROPY_DECODE", what);
}

}  // namespace

// The shared bounds-checked reader with negentropy's errors and its big-endian base-128 varint.
class Negentropy::Reader {
 public:
  explicit Reader(ByteView data) : in_(data) {}
  bool empty() const { return in_.done(); }
  std::size_t remaining() const { return in_.remaining(); }

  Result<std::uint8_t> byte() {
    auto b = in_.u8();
    if (!b) return decode_error("message ends prematurely");
    return *b;
  }
  Result<ByteView> bytes(std::size_t n) {
    auto out = in_.take(n);
    if (!out) return decode_error("message ends prematurely");
    return *out;
  }
  Result<std::uint64_t> varint() {
    std::uint64_t value = 0;
    for (int i = 0; i < 10; ++i) {
      auto b = in_.u8();
      if (!b) return decode_error("varint ends prematurely");
      if ((value >> 57) != 0) return decode_error("varint overflows 64 bits");
      value = (value << 7) | (*b & 0x7F);
      if ((*b & 0x80) == 0) return value;
    }
    return decode_error("varint longer than 10 bytes");
  }

 private:
  LeReader in_;  // single bytes only: the byte order is never used
};

Result<Negentropy> Negentropy::create(const NegStorage& storage, std::uint64_t frame_size_limit) {
  if (frame_size_limit != 0 && frame_size_limit < 4096) {
    return make_error("INVALID_ARGUMENT", "negentropy frame size limit must be 0 or >= 4096");
  }
  return Negentropy(storage, frame_size_limit);
}

Result<Bytes> Negentropy::initiate() {
  if (initiator_) return make_error("INVALID_STATE", "negentropy session already initiated");
  initiator_ = true;
  last_timestamp_out_ = 0;
  Bytes out{kNegentropyProtocolV1};
  split_range(0, storage_->size(), Bound{NegItem{kMaxU64, {}}, 0}, out);
  return out;
}

Result<std::optional<Bytes>> Negentropy::reconcile(ByteView message, std::vector<NegId>& have,
                                                   std::vector<NegId>& need) {
  if (!initiator_) return make_error("INVALID_STATE", "reconcile() is for the initiator");
  auto out = reconcile_aux(message, &have, &need);
  if (!out.ok()) return out.error();
  if (out->size() == 1) return std::optional<Bytes>{};
  return std::optional<Bytes>{std::move(*out)};
}

Result<Bytes> Negentropy::respond(ByteView message) {
  if (initiator_) return make_error("INVALID_STATE", "respond() is for the responder");
  return reconcile_aux(message, nullptr, nullptr);
}

bool Negentropy::exceeds_limit(std::size_t size) const {
  return limit_ != 0 && size > limit_ - 200;
}

void Negentropy::encode_timestamp(std::uint64_t timestamp, Bytes& out) {
  if (timestamp == kMaxU64) {
    last_timestamp_out_ = kMaxU64;
    neg_encode_varint(0, out);
    return;
  }
  std::uint64_t delta = timestamp - last_timestamp_out_;
  last_timestamp_out_ = timestamp;
  neg_encode_varint(delta + 1, out);
}

void Negentropy::encode_bound(const Bound& bound, Bytes& out) {
  encode_timestamp(bound.item.timestamp, out);
  neg_encode_varint(bound.id_len, out);
  out.insert(out.end(), bound.item.id.begin(),
             bound.item.id.begin() + static_cast<std::ptrdiff_t>(bound.id_len));
}

Negentropy::Bound Negentropy::minimal_bound(const NegItem& prev, const NegItem& curr) const {
  Bound b;
  b.item.timestamp = curr.timestamp;
  if (curr.timestamp != prev.timestamp) return b;  // empty id prefix
  std::size_t shared = 0;
  while (shared < kNegIdSize && curr.id[shared] == prev.id[shared]) ++shared;
  b.id_len = std::min(shared + 1, kNegIdSize);
  std::copy_n(curr.id.begin(), b.id_len, b.item.id.begin());
  return b;
}

void Negentropy::split_range(std::size_t lower, std::size_t upper, const Bound& upper_bound,
                             Bytes& out) {
  std::size_t count = upper - lower;
  if (count < kBuckets * 2) {
    encode_bound(upper_bound, out);
    neg_encode_varint(kModeIdList, out);
    neg_encode_varint(count, out);
    for (std::size_t i = lower; i < upper; ++i) {
      const NegId& id = storage_->item(i).id;
      out.insert(out.end(), id.begin(), id.end());
    }
    return;
  }
  std::size_t per_bucket = count / kBuckets;
  std::size_t with_extra = count % kBuckets;
  std::size_t curr = lower;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    std::size_t size = per_bucket + (i < with_extra ? 1 : 0);
    NegFingerprint fp = storage_->fingerprint(curr, curr + size);
    curr += size;
    Bound next =
        curr == upper ? upper_bound : minimal_bound(storage_->item(curr - 1), storage_->item(curr));
    encode_bound(next, out);
    neg_encode_varint(kModeFingerprint, out);
    out.insert(out.end(), fp.begin(), fp.end());
  }
}

Result<Bytes> Negentropy::reconcile_aux(ByteView message, std::vector<NegId>* have,
                                        std::vector<NegId>* need) {
  last_timestamp_in_ = 0;
  last_timestamp_out_ = 0;
  Bytes full{kNegentropyProtocolV1};
  Reader in(message);

  auto version = in.byte();
  if (!version.ok()) return version.error();
  if (*version < 0x60 || *version > 0x6F) {
    return decode_error("invalid negentropy protocol version byte");
  }
  if (*version != kNegentropyProtocolV1) {
    if (initiator_) {
      return make_error("NEGENTROPY_VERSION", "peer asks for unsupported negentropy version " +
                                                  std::to_string(*version - 0x60));
    }
    return full;
  }

  const std::size_t storage_size = storage_->size();
  Bound prev_bound;
  std::size_t prev_index = 0;
  bool skip = false;

  while (!in.empty()) {
    Bytes o;
    auto do_skip = [&] {
      if (skip) {
        skip = false;
        encode_bound(prev_bound, o);
        neg_encode_varint(kModeSkip, o);
      }
    };

    // Bound: delta-encoded timestamp (0 = infinity, else ts + 1), then an id prefix.
    auto raw_ts = in.varint();
    if (!raw_ts.ok()) return raw_ts.error();
    std::uint64_t ts = *raw_ts == 0 ? kMaxU64 : *raw_ts - 1;
    std::uint64_t sum = ts + last_timestamp_in_;
    ts = sum < last_timestamp_in_ ? kMaxU64 : sum;  // saturate
    last_timestamp_in_ = ts;
    auto id_len = in.varint();
    if (!id_len.ok()) return id_len.error();
    if (*id_len > kNegIdSize) return decode_error("bound id prefix longer than 32 bytes");
    auto prefix = in.bytes(static_cast<std::size_t>(*id_len));
    if (!prefix.ok()) return prefix.error();
    Bound curr_bound;
    curr_bound.item.timestamp = ts;
    curr_bound.id_len = static_cast<std::size_t>(*id_len);
    std::copy(prefix->begin(), prefix->end(), curr_bound.item.id.begin());

    auto mode = in.varint();
    if (!mode.ok()) return mode.error();

    std::size_t lower = prev_index;
    std::size_t upper = storage_->lower_bound(prev_index, storage_size, curr_bound.item);

    if (*mode == kModeSkip) {
      skip = true;
    } else if (*mode == kModeFingerprint) {
      auto theirs = in.bytes(kNegFingerprintSize);
      if (!theirs.ok()) return theirs.error();
      NegFingerprint ours = storage_->fingerprint(lower, upper);
      if (!std::equal(ours.begin(), ours.end(), theirs->begin())) {
        do_skip();
        split_range(lower, upper, curr_bound, o);
      } else {
        skip = true;
      }
    } else if (*mode == kModeIdList) {
      auto num = in.varint();
      if (!num.ok()) return num.error();
      if (*num > in.remaining() / kNegIdSize) return decode_error("id list longer than message");
      std::set<NegId> theirs;
      for (std::uint64_t i = 0; i < *num; ++i) {
        auto id = in.bytes(kNegIdSize);
        NegId v;
        std::copy(id->begin(), id->end(), v.begin());
        theirs.insert(v);
      }
      for (std::size_t i = lower; i < upper; ++i) {
        const NegId& id = storage_->item(i).id;
        auto it = theirs.find(id);
        if (it == theirs.end()) {
          if (initiator_) have->push_back(id);
        } else {
          theirs.erase(it);
        }
      }
      if (initiator_) {
        skip = true;
        for (const NegId& id : theirs) need->push_back(id);
      } else {
        do_skip();
        Bytes ids;
        std::uint64_t count = 0;
        Bound end_bound = curr_bound;
        for (std::size_t i = lower; i < upper; ++i) {
          if (exceeds_limit(full.size() + ids.size())) {
            end_bound = Bound{storage_->item(i), kNegIdSize};
            upper = i;  // the rest of the range gets the closing fingerprint below
            break;
          }
          const NegId& id = storage_->item(i).id;
          ids.insert(ids.end(), id.begin(), id.end());
          ++count;
        }
        encode_bound(end_bound, o);
        neg_encode_varint(kModeIdList, o);
        neg_encode_varint(count, o);
        o.insert(o.end(), ids.begin(), ids.end());
        full.insert(full.end(), o.begin(), o.end());
        o.clear();
      }
    } else {
      return decode_error("unknown range mode " + std::to_string(*mode));
    }

    if (exceeds_limit(full.size() + o.size())) {
      // Over the frame limit: stop here and send one fingerprint for everything that is left.
      NegFingerprint rest = storage_->fingerprint(upper, storage_size);
      encode_bound(Bound{NegItem{kMaxU64, {}}, 0}, full);
      neg_encode_varint(kModeFingerprint, full);
      full.insert(full.end(), rest.begin(), rest.end());
      break;
    }
    full.insert(full.end(), o.begin(), o.end());
    prev_index = upper;
    prev_bound = curr_bound;
  }
  return full;
}

}  // namespace peat::sync
