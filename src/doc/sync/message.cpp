#include "peat/doc/sync/message.hpp"

#include "doc/sync/wire.hpp"

namespace peat::doc::sync {
namespace {

constexpr const char* kCode = "INVALID_SYNC_MESSAGE";

Trailer parse_trailer(ByteView bytes) {
  Trailer t;
  for (std::uint8_t b : bytes) {
    if (b >= 0x80) {
      t.flags = static_cast<std::uint8_t>(t.flags.value_or(0) | (b & 0x7f));
    } else {
      t.capabilities.push_back(b);
    }
  }
  return t;
}

}  // namespace

Bytes encode_message(const Message& m) {
  Bytes out;
  out.push_back(static_cast<std::uint8_t>(m.version));
  wire::put_hashes(out, m.heads);
  wire::put_hashes(out, m.need);
  wire::put_uleb(out, m.have.size());
  for (const auto& h : m.have) {
    wire::put_hashes(out, h.last_sync);
    wire::put_bytes(out, h.bloom.encode());
  }
  wire::put_uleb(out, m.changes.size());
  for (const auto& c : m.changes) wire::put_bytes(out, c);
  if (m.trailer) {
    Bytes t = m.trailer->capabilities;
    if (m.trailer->flags) t.push_back(static_cast<std::uint8_t>(0x80 | *m.trailer->flags));
    wire::put_bytes(out, t);
  }
  return out;
}

Result<Message> decode_message(ByteView data) {
  wire::Reader r(data, kCode);
  Message m;
  auto type = r.byte("message type");
  if (!type) return type.error();
  if (*type == 0x42) {
    m.version = MessageVersion::kV1;
  } else if (*type == 0x43) {
    m.version = MessageVersion::kV2;
  } else {
    return make_error(kCode, "unknown message type 0x" + to_hex(ByteView(&*type, 1)) +
                                 " (expected 0x42 or 0x43)");
  }
  auto heads = r.hashes("heads");
  if (!heads) return heads.error();
  m.heads = std::move(*heads);
  auto need = r.hashes("need");
  if (!need) return need.error();
  m.need = std::move(*need);

  auto n_have = r.uleb("have count");
  if (!n_have) return n_have.error();
  // Each entry takes at least two bytes: an upper bound that cannot be faked.
  if (*n_have > r.remaining() / 2) return r.fail("truncated have list");
  for (std::uint64_t i = 0; i < *n_have; ++i) {
    Have h;
    auto last_sync = r.hashes("have lastSync");
    if (!last_sync) return last_sync.error();
    h.last_sync = std::move(*last_sync);
    auto bloom_bytes = r.length_prefixed("have bloom");
    if (!bloom_bytes) return bloom_bytes.error();
    auto bloom = BloomFilter::decode(*bloom_bytes);
    if (!bloom) {
      return make_error(kCode, "have entry " + std::to_string(i) + ": " + bloom.error().message);
    }
    h.bloom = std::move(*bloom);
    m.have.push_back(std::move(h));
  }

  auto n_changes = r.uleb("change count");
  if (!n_changes) return n_changes.error();
  if (*n_changes > r.remaining()) return r.fail("truncated change list");
  for (std::uint64_t i = 0; i < *n_changes; ++i) {
    auto change = r.length_prefixed("change");
    if (!change) return change.error();
    m.changes.emplace_back(change->begin(), change->end());
  }

  if (!r.empty()) {
    auto trailer = r.length_prefixed("flags trailer");
    if (!trailer) return trailer.error();
    m.trailer = parse_trailer(*trailer);
  }
  return m;
}

}  // namespace peat::doc::sync
