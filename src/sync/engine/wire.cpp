#include "peat/sync/wire.hpp"

#include <cstring>

#include "peat/common/sha256.hpp"
#include "peat/common/utf8.hpp"

namespace peat::sync {
namespace {

Error decode_error(std::string what) {
  return make_error("SYNC_DECODE", std::move(what));
}

void put_u8(Bytes& out, std::uint8_t v) {
  out.push_back(v);
}
void put_u16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put_u32(Bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void put_u64(Bytes& out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

// Bounds-checked big-endian reader.
class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}
  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t pos() const { return pos_; }
  bool u8(std::uint8_t& v) {
    if (remaining() < 1) return false;
    v = data_[pos_++];
    return true;
  }
  bool u16(std::uint16_t& v) {
    if (remaining() < 2) return false;
    v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (remaining() < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | data_[pos_ + i];
    pos_ += 4;
    return true;
  }
  bool u64(std::uint64_t& v) {
    if (remaining() < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | data_[pos_ + i];
    pos_ += 8;
    return true;
  }
  bool take(std::size_t n, ByteView& out) {
    if (remaining() < n) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  ByteView data_;
  std::size_t pos_ = 0;
};

bool read_string16(Reader& r, std::string& out, const char* field, Error& err) {
  std::uint16_t len;
  ByteView b;
  if (!r.u16(len) || !r.take(len, b)) {
    err = decode_error(std::string("truncated ") + field);
    return false;
  }
  if (!is_valid_utf8(b)) {
    err = decode_error(std::string(field) + " is not valid UTF-8");
    return false;
  }
  out.assign(reinterpret_cast<const char*>(b.data()), b.size());
  return true;
}

Status put_string16(Bytes& out, std::string_view s, const char* field) {
  if (s.size() > 0xFFFF) {
    return make_error("INVALID_ARGUMENT", std::string(field) + " longer than 65535 bytes");
  }
  put_u16(out, static_cast<std::uint16_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
  return {};
}

bool batch_entry_type_ok(std::uint8_t t) {
  return t == 0x00 || t == 0x01 || t == 0x02 || t == 0x04 || t == 0x05 || t == 0x06 || t == 0x07;
}

// One frame at the reader's position. `allow` decides which types are accepted.
template <typename Allow>
Result<Frame> read_frame(Reader& r, std::size_t max_payload, Allow allow) {
  Frame f;
  Error err;
  if (!read_string16(r, f.key, "frame key", err)) return err;
  std::uint8_t type;
  if (!r.u8(type)) return decode_error("truncated frame: no message type");
  if (!allow(type)) return decode_error("unknown message type 0x" + to_hex(ByteView(&type, 1)));
  std::uint32_t len;
  if (!r.u32(len)) return decode_error("truncated frame: no payload length");
  if (len > max_payload) {
    return decode_error("payload of " + std::to_string(len) + " bytes exceeds the cap of " +
                        std::to_string(max_payload));
  }
  ByteView p;
  if (!r.take(len, p)) {
    return decode_error("truncated payload: " + std::to_string(len) + " bytes declared, " +
                        std::to_string(r.remaining()) + " present");
  }
  f.type = static_cast<MessageType>(type);
  f.payload.assign(p.begin(), p.end());
  return f;
}

}  // namespace

bool is_known_type(std::uint8_t type) {
  switch (type) {
    case 0x00:
    case 0x01:
    case 0x04:
    case 0x05:
    case 0x06:
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x10:
    case 0x11:
      return true;
    default:
      return false;
  }
}

const char* to_string(MessageType type) {
  switch (type) {
    case MessageType::kDeltaSync:
      return "DeltaSync";
    case MessageType::kStateSnapshot:
      return "StateSnapshot";
    case MessageType::kWindowedHistory:
      return "WindowedHistory";
    case MessageType::kTombstone:
      return "Tombstone";
    case MessageType::kTombstoneBatch:
      return "TombstoneBatch";
    case MessageType::kTombstoneAck:
      return "TombstoneAck";
    case MessageType::kSyncBatch:
      return "SyncBatch";
    case MessageType::kNegentropyInit:
      return "NegentropyInit";
    case MessageType::kNegentropyResponse:
      return "NegentropyResponse";
    case MessageType::kNegentropyRequest:
      return "NegentropyRequest";
    case MessageType::kNegentropyNeed:
      return "NegentropyNeed";
    case MessageType::kNegentropyContinue:
      return "NegentropyContinue";
  }
  return "Unknown";
}

Result<Bytes> encode_frame(std::string_view key, MessageType type, ByteView payload) {
  if (payload.size() > 0xFFFFFFFFull) {
    return make_error("INVALID_ARGUMENT", "payload longer than 2^32-1 bytes");
  }
  Bytes out;
  out.reserve(kFrameHeaderSize + key.size() + payload.size());
  PEAT_TRY_STATUS(put_string16(out, key, "frame key"));
  put_u8(out, static_cast<std::uint8_t>(type));
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Result<Frame> decode_frame(ByteView data, std::size_t max_payload) {
  Reader r(data);
  auto f = read_frame(r, max_payload, is_known_type);
  if (!f.ok()) return f;
  if (r.remaining() != 0) {
    return decode_error(std::to_string(r.remaining()) + " trailing bytes after the frame");
  }
  return f;
}

Result<std::vector<Frame>> decode_frames(ByteView data, std::size_t& consumed,
                                         std::size_t max_payload) {
  std::vector<Frame> frames;
  consumed = 0;
  while (consumed < data.size()) {
    ByteView rest = data.subspan(consumed);
    // Is a whole frame present? Peek at the lengths without failing on truncation.
    if (rest.size() < 2) break;
    std::size_t key_len = (std::size_t{rest[0]} << 8) | rest[1];
    if (rest.size() < 2 + key_len + 1 + 4) break;
    std::size_t off = 2 + key_len + 1;
    std::size_t len = (std::size_t{rest[off]} << 24) | (std::size_t{rest[off + 1]} << 16) |
                      (std::size_t{rest[off + 2]} << 8) | rest[off + 3];
    if (len > max_payload) {
      return decode_error("payload of " + std::to_string(len) + " bytes exceeds the cap of " +
                          std::to_string(max_payload));
    }
    if (rest.size() < off + 4 + len) break;
    Reader r(rest.first(off + 4 + len));
    auto f = read_frame(r, max_payload, is_known_type);
    if (!f.ok()) return f.error();
    frames.push_back(std::move(*f));
    consumed += off + 4 + len;
  }
  return frames;
}

Result<Bytes> encode_tombstone(const TombstoneMessage& m) {
  Bytes out;
  PEAT_TRY_STATUS(put_string16(out, m.collection, "collection"));
  PEAT_TRY_STATUS(put_string16(out, m.document_id, "document id"));
  put_u64(out, m.deleted_at_ms);
  put_u64(out, m.lamport);
  PEAT_TRY_STATUS(put_string16(out, m.deleted_by, "deleted_by"));
  PEAT_TRY_STATUS(put_string16(out, m.reason.value_or(""), "reason"));
  put_u8(out, static_cast<std::uint8_t>(m.direction));
  return out;
}

namespace {
Result<TombstoneMessage> read_tombstone(Reader& r) {
  TombstoneMessage m;
  Error err;
  if (!read_string16(r, m.collection, "tombstone collection", err)) return err;
  if (!read_string16(r, m.document_id, "tombstone document id", err)) return err;
  if (!r.u64(m.deleted_at_ms)) return decode_error("truncated tombstone deleted_at");
  if (!r.u64(m.lamport)) return decode_error("truncated tombstone lamport");
  if (!read_string16(r, m.deleted_by, "tombstone deleted_by", err)) return err;
  std::string reason;
  if (!read_string16(r, reason, "tombstone reason", err)) return err;
  if (!reason.empty()) m.reason = std::move(reason);
  std::uint8_t dir;
  if (!r.u8(dir)) return decode_error("truncated tombstone direction");
  if (dir > 3) return decode_error("invalid tombstone direction " + std::to_string(dir));
  m.direction = static_cast<PropagationDirection>(dir);
  return m;
}
}  // namespace

Result<TombstoneMessage> decode_tombstone(ByteView data) {
  Reader r(data);
  auto m = read_tombstone(r);
  if (!m.ok()) return m;
  if (r.remaining() != 0) return decode_error("trailing bytes after the tombstone");
  return m;
}

Result<Bytes> encode_tombstone_batch(const std::vector<TombstoneMessage>& batch) {
  Bytes out;
  put_u32(out, static_cast<std::uint32_t>(batch.size()));
  for (const auto& t : batch) {
    auto one = encode_tombstone(t);
    if (!one.ok()) return one.error();
    put_u32(out, static_cast<std::uint32_t>(one->size()));
    out.insert(out.end(), one->begin(), one->end());
  }
  return out;
}

Result<std::vector<TombstoneMessage>> decode_tombstone_batch(ByteView data) {
  Reader r(data);
  std::uint32_t count;
  if (!r.u32(count)) return decode_error("truncated tombstone batch count");
  // Each item needs at least its 4-byte length and a 27-byte minimal tombstone.
  if (count > r.remaining() / 31) {
    return decode_error("tombstone batch declares " + std::to_string(count) +
                        " items, more than its size allows");
  }
  std::vector<TombstoneMessage> out;
  out.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t len;
    ByteView item;
    if (!r.u32(len) || !r.take(len, item)) {
      return decode_error("truncated tombstone batch item " + std::to_string(i));
    }
    auto t = decode_tombstone(item);
    if (!t.ok())
      return decode_error("tombstone batch item " + std::to_string(i) + ": " + t.error().message);
    out.push_back(std::move(*t));
  }
  if (r.remaining() != 0) return decode_error("trailing bytes after the tombstone batch");
  return out;
}

Result<Bytes> encode_sync_batch(const SyncBatch& batch) {
  Bytes out;
  put_u64(out, batch.batch_id);
  put_u64(out, batch.created_at_ms);
  put_u8(out, batch.ttl);
  put_u32(out, static_cast<std::uint32_t>(batch.entries.size()));
  for (const auto& e : batch.entries) {
    if (!batch_entry_type_ok(static_cast<std::uint8_t>(e.type))) {
      return make_error("INVALID_ARGUMENT", std::string("message type ") + to_string(e.type) +
                                                " cannot be a batch entry");
    }
    auto f = encode_frame(e.key, e.type, e.payload);
    if (!f.ok()) return f.error();
    out.insert(out.end(), f->begin(), f->end());
  }
  return out;
}

Result<SyncBatch> decode_sync_batch(ByteView data, std::size_t max_payload) {
  Reader r(data);
  SyncBatch b;
  std::uint32_t count;
  if (!r.u64(b.batch_id) || !r.u64(b.created_at_ms) || !r.u8(b.ttl) || !r.u32(count)) {
    return decode_error("sync batch shorter than its 21-byte header");
  }
  if (count > r.remaining() / kFrameHeaderSize) {
    return decode_error("sync batch declares " + std::to_string(count) +
                        " entries, more than its size allows");
  }
  b.entries.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    auto f = read_frame(r, max_payload, batch_entry_type_ok);
    if (!f.ok()) {
      return decode_error("sync batch entry " + std::to_string(i) + ": " + f.error().message);
    }
    b.entries.push_back(std::move(*f));
  }
  if (r.remaining() != 0) return decode_error("trailing bytes after the sync batch");
  return b;
}

std::array<std::uint8_t, 32> batch_content_digest(const SyncBatch& batch) {
  Sha256 h;
  for (const auto& e : batch.entries) {
    Bytes head;
    put_u32(head, static_cast<std::uint32_t>(e.key.size()));
    h.update(head);
    h.update(as_bytes(e.key));
    head.clear();
    put_u8(head, static_cast<std::uint8_t>(e.type));
    put_u32(head, static_cast<std::uint32_t>(e.payload.size()));
    h.update(head);
    h.update(e.payload);
  }
  return h.finish();
}

Bytes encode_need_list(const std::vector<NegId>& ids) {
  Bytes out;
  out.reserve(4 + ids.size() * kNegIdSize);
  put_u32(out, static_cast<std::uint32_t>(ids.size()));
  for (const auto& id : ids) out.insert(out.end(), id.begin(), id.end());
  return out;
}

Result<std::vector<NegId>> decode_need_list(ByteView data) {
  Reader r(data);
  std::uint32_t count;
  if (!r.u32(count)) return decode_error("truncated need list count");
  if (r.remaining() != std::size_t{count} * kNegIdSize) {
    return decode_error("need list declares " + std::to_string(count) + " ids but carries " +
                        std::to_string(r.remaining()) + " bytes");
  }
  std::vector<NegId> ids(count);
  for (auto& id : ids) {
    ByteView b;
    r.take(kNegIdSize, b);
    std::memcpy(id.data(), b.data(), kNegIdSize);
  }
  return ids;
}

}  // namespace peat::sync
