#include "peat/sync/wire.hpp"

#include "peat/common/byte_io.hpp"
#include "peat/common/sha256.hpp"
#include "peat/common/utf8.hpp"

namespace peat::sync {
namespace {

Error decode_error(std::string what) {
  return make_error("SYNC_DECODE", std::move(what));
}

// Reads a u16-length-prefixed UTF-8 string; the error names the field.
Result<std::string> read_string16(BeReader& r, const char* field) {
  auto len = r.u16();
  auto b = len ? r.take(*len) : std::nullopt;
  if (!b) return decode_error(std::string("truncated ") + field);
  if (!is_valid_utf8(*b)) return decode_error(std::string(field) + " is not valid UTF-8");
  return std::string(reinterpret_cast<const char*>(b->data()), b->size());
}

Status put_string16(BeWriter& w, std::string_view s, const char* field) {
  if (s.size() > 0xFFFF) {
    return make_error("INVALID_ARGUMENT", std::string(field) + " longer than 65535 bytes");
  }
  w.u16(static_cast<std::uint16_t>(s.size()));
  w.str(s);
  return {};
}

bool batch_entry_type_ok(std::uint8_t t) {
  return t == 0x00 || t == 0x01 || t == 0x02 || t == 0x04 || t == 0x05 || t == 0x06 || t == 0x07;
}

// One frame at the reader's position. `allow` decides which types are accepted.
template <typename Allow>
Result<Frame> read_frame(BeReader& r, std::size_t max_payload, Allow allow) {
  Frame f;
  auto key = read_string16(r, "frame key");
  if (!key.ok()) return key.error();
  f.key = std::move(*key);
  auto type = r.u8();
  if (!type) return decode_error("truncated frame: no message type");
  if (!allow(*type)) return decode_error("unknown message type 0x" + to_hex(ByteView(&*type, 1)));
  auto len = r.u32();
  if (!len) return decode_error("truncated frame: no payload length");
  if (*len > max_payload) {
    return decode_error("payload of " + std::to_string(*len) + " bytes exceeds the cap of " +
                        std::to_string(max_payload));
  }
  auto p = r.take(*len);
  if (!p) {
    return decode_error("truncated payload: " + std::to_string(*len) + " bytes declared, " +
                        std::to_string(r.remaining()) + " present");
  }
  f.type = static_cast<MessageType>(*type);
  f.payload.assign(p->begin(), p->end());
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
    case 0x12:
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
    case MessageType::kDeclined:
      return "Declined";
  }
  return "Unknown";
}

Result<Bytes> encode_frame(std::string_view key, MessageType type, ByteView payload) {
  if (payload.size() > 0xFFFFFFFFull) {
    return make_error("INVALID_ARGUMENT", "payload longer than 2^32-1 bytes");
  }
  BeWriter w;
  w.out().reserve(kFrameHeaderSize + key.size() + payload.size());
  PEAT_TRY_STATUS(put_string16(w, key, "frame key"));
  w.u8(static_cast<std::uint8_t>(type));
  w.u32(static_cast<std::uint32_t>(payload.size()));
  w.bytes(payload);
  return w.take();
}

Result<Frame> decode_frame(ByteView data, std::size_t max_payload) {
  BeReader r(data);
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
    BeReader peek(rest);
    auto key_len = peek.u16();
    if (!key_len || !peek.take(std::size_t{*key_len} + 1)) break;
    auto len = peek.u32();
    if (!len) break;
    if (*len > max_payload) {
      return decode_error("payload of " + std::to_string(*len) + " bytes exceeds the cap of " +
                          std::to_string(max_payload));
    }
    if (peek.remaining() < *len) break;
    std::size_t size = peek.pos() + *len;
    BeReader r(rest.first(size));
    auto f = read_frame(r, max_payload, is_known_type);
    if (!f.ok()) return f.error();
    frames.push_back(std::move(*f));
    consumed += size;
  }
  return frames;
}

Result<Bytes> encode_tombstone(const TombstoneMessage& m) {
  BeWriter w;
  PEAT_TRY_STATUS(put_string16(w, m.collection, "collection"));
  PEAT_TRY_STATUS(put_string16(w, m.document_id, "document id"));
  w.u64(m.deleted_at_ms);
  w.u64(m.lamport);
  PEAT_TRY_STATUS(put_string16(w, m.deleted_by, "deleted_by"));
  PEAT_TRY_STATUS(put_string16(w, m.reason.value_or(""), "reason"));
  w.u8(static_cast<std::uint8_t>(m.direction));
  return w.take();
}

namespace {
Result<TombstoneMessage> read_tombstone(BeReader& r) {
  TombstoneMessage m;
  auto collection = read_string16(r, "tombstone collection");
  if (!collection.ok()) return collection.error();
  m.collection = std::move(*collection);
  auto document_id = read_string16(r, "tombstone document id");
  if (!document_id.ok()) return document_id.error();
  m.document_id = std::move(*document_id);
  auto deleted_at = r.u64();
  if (!deleted_at) return decode_error("truncated tombstone deleted_at");
  m.deleted_at_ms = *deleted_at;
  auto lamport = r.u64();
  if (!lamport) return decode_error("truncated tombstone lamport");
  m.lamport = *lamport;
  auto deleted_by = read_string16(r, "tombstone deleted_by");
  if (!deleted_by.ok()) return deleted_by.error();
  m.deleted_by = std::move(*deleted_by);
  auto reason = read_string16(r, "tombstone reason");
  if (!reason.ok()) return reason.error();
  if (!reason->empty()) m.reason = std::move(*reason);
  auto dir = r.u8();
  if (!dir) return decode_error("truncated tombstone direction");
  if (*dir > 3) return decode_error("invalid tombstone direction " + std::to_string(*dir));
  m.direction = static_cast<PropagationDirection>(*dir);
  return m;
}
}  // namespace

Result<TombstoneMessage> decode_tombstone(ByteView data) {
  BeReader r(data);
  auto m = read_tombstone(r);
  if (!m.ok()) return m;
  if (r.remaining() != 0) return decode_error("trailing bytes after the tombstone");
  return m;
}

Result<Bytes> encode_tombstone_batch(const std::vector<TombstoneMessage>& batch) {
  BeWriter w;
  w.u32(static_cast<std::uint32_t>(batch.size()));
  for (const auto& t : batch) {
    auto one = encode_tombstone(t);
    if (!one.ok()) return one.error();
    w.u32(static_cast<std::uint32_t>(one->size()));
    w.bytes(*one);
  }
  return w.take();
}

Result<std::vector<TombstoneMessage>> decode_tombstone_batch(ByteView data) {
  BeReader r(data);
  auto count = r.u32();
  if (!count) return decode_error("truncated tombstone batch count");
  // Each item needs at least its 4-byte length and a 27-byte minimal tombstone.
  if (*count > r.remaining() / 31) {
    return decode_error("tombstone batch declares " + std::to_string(*count) +
                        " items, more than its size allows");
  }
  std::vector<TombstoneMessage> out;
  out.reserve(*count);
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto len = r.u32();
    auto item = len ? r.take(*len) : std::nullopt;
    if (!item) return decode_error("truncated tombstone batch item " + std::to_string(i));
    auto t = decode_tombstone(*item);
    if (!t.ok())
      return decode_error("tombstone batch item " + std::to_string(i) + ": " + t.error().message);
    out.push_back(std::move(*t));
  }
  if (r.remaining() != 0) return decode_error("trailing bytes after the tombstone batch");
  return out;
}

Result<Bytes> encode_sync_batch(const SyncBatch& batch) {
  BeWriter w;
  w.u64(batch.batch_id);
  w.u64(batch.created_at_ms);
  w.u8(batch.ttl);
  w.u32(static_cast<std::uint32_t>(batch.entries.size()));
  for (const auto& e : batch.entries) {
    if (!batch_entry_type_ok(static_cast<std::uint8_t>(e.type))) {
      return make_error("INVALID_ARGUMENT", std::string("message type ") + to_string(e.type) +
                                                " cannot be a batch entry");
    }
    auto f = encode_frame(e.key, e.type, e.payload);
    if (!f.ok()) return f.error();
    w.bytes(*f);
  }
  return w.take();
}

Result<SyncBatch> decode_sync_batch(ByteView data, std::size_t max_payload) {
  BeReader r(data);
  SyncBatch b;
  auto id = r.u64();
  auto created = r.u64();
  auto ttl = r.u8();
  auto count = r.u32();
  if (!id || !created || !ttl || !count) {
    return decode_error("sync batch shorter than its 21-byte header");
  }
  b.batch_id = *id;
  b.created_at_ms = *created;
  b.ttl = *ttl;
  if (*count > r.remaining() / kFrameHeaderSize) {
    return decode_error("sync batch declares " + std::to_string(*count) +
                        " entries, more than its size allows");
  }
  b.entries.reserve(*count);
  for (std::uint32_t i = 0; i < *count; ++i) {
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
    BeWriter key_len;
    key_len.u32(static_cast<std::uint32_t>(e.key.size()));
    h.update(key_len.out());
    h.update(as_bytes(e.key));
    BeWriter head;
    head.u8(static_cast<std::uint8_t>(e.type));
    head.u32(static_cast<std::uint32_t>(e.payload.size()));
    h.update(head.out());
    h.update(e.payload);
  }
  return h.finish();
}

Bytes encode_declined(DeclineReason reason) {
  return Bytes{static_cast<std::uint8_t>(reason)};
}

Result<DeclineReason> decode_declined(ByteView data) {
  if (data.size() != 1) {
    return decode_error("declined payload is " + std::to_string(data.size()) +
                        " bytes, expected 1");
  }
  if (data[0] != static_cast<std::uint8_t>(DeclineReason::kEvicted)) {
    return decode_error("unknown decline reason " + std::to_string(data[0]));
  }
  return static_cast<DeclineReason>(data[0]);
}

Bytes encode_need_list(const std::vector<NegId>& ids) {
  BeWriter w;
  w.out().reserve(4 + ids.size() * kNegIdSize);
  w.u32(static_cast<std::uint32_t>(ids.size()));
  for (const auto& id : ids) w.bytes(id);
  return w.take();
}

Result<std::vector<NegId>> decode_need_list(ByteView data) {
  BeReader r(data);
  auto count = r.u32();
  if (!count) return decode_error("truncated need list count");
  if (r.remaining() != std::size_t{*count} * kNegIdSize) {
    return decode_error("need list declares " + std::to_string(*count) + " ids but carries " +
                        std::to_string(r.remaining()) + " bytes");
  }
  std::vector<NegId> ids(*count);
  for (auto& id : ids) id = *r.array<kNegIdSize>();
  return ids;
}

}  // namespace peat::sync
