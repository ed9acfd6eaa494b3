#include "peat/lite/protocol.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>

#include "peat/common/byte_io.hpp"
#include "peat/common/utf8.hpp"

namespace peat::lite {
namespace {

Error err(const char* code, std::string message) {
  return make_error(code, std::move(message));
}

Error truncated(const char* what) {
  return err("LITE_TRUNCATED_FIELD", std::string("truncated field: ") + what);
}

// The lite formats are little-endian throughout.
using Reader = LeReader;
using Writer = LeWriter;

// Reads a little-endian integer of T's width into v; false (nothing consumed) when short.
template <typename T>
bool read(Reader& r, T& v) {
  std::optional<T> got;
  if constexpr (sizeof(T) == 1) {
    got = r.u8();
  } else if constexpr (sizeof(T) == 2) {
    got = r.u16();
  } else if constexpr (sizeof(T) == 4) {
    got = r.u32();
  } else {
    static_assert(sizeof(T) == 8);
    got = r.u64();
  }
  if (!got) return false;
  v = *got;
  return true;
}

// Writes v as a little-endian integer of T's width.
template <typename T>
void write(Writer& w, T v) {
  if constexpr (sizeof(T) == 1) {
    w.u8(static_cast<std::uint8_t>(v));
  } else if constexpr (sizeof(T) == 2) {
    w.u16(static_cast<std::uint16_t>(v));
  } else if constexpr (sizeof(T) == 4) {
    w.u32(static_cast<std::uint32_t>(v));
  } else {
    static_assert(sizeof(T) == 8);
    w.u64(static_cast<std::uint64_t>(v));
  }
}

Result<std::string> read_text(Reader& r, std::size_t n, const char* what) {
  auto b = r.take(n);
  if (!b) return truncated(what);
  if (!is_valid_utf8(*b))
    return err("LITE_INVALID_UTF8", std::string(what) + " is not valid UTF-8");
  return std::string(as_chars(*b));
}

Error count_too_large(const char* what) {
  return err("LITE_FIELD_TOO_LARGE", std::string(what) + " has more than 65535 entries");
}

}  // namespace

std::optional<MessageType> message_type_from_u8(std::uint8_t v) {
  if ((v >= 0x01 && v <= 0x07) || (v >= 0x10 && v <= 0x16)) return static_cast<MessageType>(v);
  return std::nullopt;
}

const char* to_string(MessageType type) {
  switch (type) {
    case MessageType::kAnnounce:
      return "ANNOUNCE";
    case MessageType::kHeartbeat:
      return "HEARTBEAT";
    case MessageType::kData:
      return "DATA";
    case MessageType::kQuery:
      return "QUERY";
    case MessageType::kAck:
      return "ACK";
    case MessageType::kLeave:
      return "LEAVE";
    case MessageType::kDocument:
      return "DOCUMENT";
    case MessageType::kOtaOffer:
      return "OTA_OFFER";
    case MessageType::kOtaAccept:
      return "OTA_ACCEPT";
    case MessageType::kOtaData:
      return "OTA_DATA";
    case MessageType::kOtaAck:
      return "OTA_ACK";
    case MessageType::kOtaComplete:
      return "OTA_COMPLETE";
    case MessageType::kOtaResult:
      return "OTA_RESULT";
    case MessageType::kOtaAbort:
      return "OTA_ABORT";
  }
  return "UNKNOWN";
}

std::optional<CrdtType> crdt_type_from_u8(std::uint8_t v) {
  if (v >= 1 && v <= 4) return static_cast<CrdtType>(v);
  return std::nullopt;
}

std::uint32_t default_ttl(CrdtType type) {
  switch (type) {
    case CrdtType::kLwwRegister:
      return kDefaultTtlLww;
    case CrdtType::kGCounter:
      return kDefaultTtlGCounter;
    case CrdtType::kPnCounter:
      return kDefaultTtlPnCounter;
    case CrdtType::kOrSet:
      return 0;
  }
  return 0;
}

std::string caps::to_string(std::uint16_t bits) {
  static constexpr std::pair<std::uint16_t, const char*> kNames[] = {
      {kPersistentStorage, "storage"}, {kRelay, "relay"},        {kDocumentCrdt, "doc-crdt"},
      {kPrimitiveCrdt, "prim-crdt"},   {kBlobStorage, "blob"},   {kHistoryQuery, "history"},
      {kAggregation, "agg"},           {kSensorInput, "sensor"}, {kDisplayOutput, "display"},
      {kActuation, "actuate"}};
  std::string out = "[";
  for (const auto& [bit, name] : kNames) {
    if (!(bits & bit)) continue;
    if (out.size() > 1) out += ", ";
    out += name;
  }
  return out + "]";
}

Result<Bytes> encode_packet(const Header& header, ByteView payload) {
  if (payload.size() > kMaxPayloadSize) {
    return err("LITE_PAYLOAD_TOO_LARGE", "payload of " + std::to_string(payload.size()) +
                                             " bytes exceeds " + std::to_string(kMaxPayloadSize));
  }
  Writer w;
  w.out().reserve(kHeaderSize + payload.size());
  w.bytes(kMagic);
  w.u8(kProtocolVersion);
  w.u8(static_cast<std::uint8_t>(header.type));
  write(w, header.flags);
  write(w, header.node_id);
  write(w, header.seq_num);
  w.bytes(payload);
  return w.take();
}

Result<Packet> decode_packet(ByteView datagram) {
  if (datagram.size() < kHeaderSize) {
    return err("LITE_TOO_SHORT", "packet of " + std::to_string(datagram.size()) +
                                     " bytes is shorter than the 16-byte header");
  }
  if (datagram.size() > kMaxPacketSize) {
    return err("LITE_PAYLOAD_TOO_LARGE", "packet of " + std::to_string(datagram.size()) +
                                             " bytes exceeds " + std::to_string(kMaxPacketSize));
  }
  if (!std::equal(kMagic.begin(), kMagic.end(), datagram.begin())) {
    return err("LITE_INVALID_MAGIC", "packet does not start with \"PEAT\"");
  }
  if (datagram[4] != kProtocolVersion) {
    return err("LITE_UNSUPPORTED_VERSION",
               "protocol version " + std::to_string(datagram[4]) + " is not supported");
  }
  auto type = message_type_from_u8(datagram[5]);
  if (!type) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", datagram[5]);
    return err("LITE_INVALID_MESSAGE_TYPE", std::string("unknown message type ") + buf);
  }
  Reader r(datagram.subspan(6));
  Packet p;
  p.header.type = *type;
  read(r, p.header.flags);
  read(r, p.header.node_id);
  read(r, p.header.seq_num);
  auto rest = r.rest();
  p.payload.assign(rest.begin(), rest.end());
  return p;
}

std::uint32_t node_id_from_hostname(std::string_view hostname) {
  std::uint32_t h = 0;
  for (char c : hostname) h = h * 31u + static_cast<std::uint8_t>(c);
  return h;
}

std::string peer_id_for(std::uint32_t node_id) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "lite-%08X", node_id);
  return buf;
}

std::optional<std::uint32_t> node_id_from_peer_id(std::string_view peer_id) {
  if (peer_id.size() != 13 || peer_id.substr(0, 5) != "lite-") return std::nullopt;
  std::uint32_t v = 0;
  for (char c : peer_id.substr(5)) {
    std::uint32_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    v = (v << 4) | d;
  }
  return v;
}

Bytes encode_announce(std::uint16_t capabilities) {
  Writer w;
  write(w, capabilities);
  return w.take();
}

Result<std::uint16_t> decode_announce(ByteView payload) {
  Reader r(payload);
  std::uint16_t v;
  if (!read(r, v)) return truncated("announce capabilities");
  return v;
}

Bytes encode_ack(std::uint32_t acked_seq) {
  Writer w;
  write(w, acked_seq);
  return w.take();
}

Result<std::uint32_t> decode_ack(ByteView payload) {
  Reader r(payload);
  std::uint32_t v;
  if (!read(r, v)) return truncated("acked sequence number");
  return v;
}

Result<Bytes> encode_query(const QueryRequest& q) {
  std::string_view id = q.doc_id ? std::string_view(*q.doc_id) : std::string_view();
  if (q.collection.size() > 255 || id.size() > 255) {
    return err("LITE_FIELD_TOO_LARGE", "query collection and doc id are limited to 255 bytes");
  }
  Writer w;
  w.u8(static_cast<std::uint8_t>(q.crdt_type));
  w.u8(static_cast<std::uint8_t>(q.collection.size()));
  w.bytes(as_bytes(q.collection));
  w.u8(static_cast<std::uint8_t>(id.size()));
  w.bytes(as_bytes(id));
  return w.take();
}

Result<QueryRequest> decode_query(ByteView payload) {
  Reader r(payload);
  std::uint8_t type, coll_len, id_len;
  if (!read(r, type)) return truncated("query crdt type");
  auto crdt = crdt_type_from_u8(type);
  if (!crdt) {
    return err("LITE_INVALID_CRDT_TYPE", "unknown CRDT type " + std::to_string(type));
  }
  if (!read(r, coll_len)) return truncated("query collection length");
  QueryRequest q;
  q.crdt_type = *crdt;
  auto coll = read_text(r, coll_len, "query collection");
  if (!coll) return coll.error();
  q.collection = std::move(*coll);
  if (!read(r, id_len)) return truncated("query doc id length");
  auto id = read_text(r, id_len, "query doc id");
  if (!id) return id.error();
  if (!id->empty()) q.doc_id = std::move(*id);
  return q;
}

std::pair<Bytes, std::uint16_t> encode_data(const DataPayload& data) {
  Writer w;
  w.u8(static_cast<std::uint8_t>(data.crdt_type));
  w.bytes(data.crdt);
  std::uint16_t flags = 0;
  if (data.ttl_secs) {
    write(w, *data.ttl_secs);
    flags |= kFlagHasTtl;
  }
  return {w.take(), flags};
}

Result<DataPayload> decode_data(std::uint16_t header_flags, ByteView payload) {
  if (payload.empty()) return truncated("DATA crdt type");
  auto crdt = crdt_type_from_u8(payload[0]);
  if (!crdt) {
    return err("LITE_INVALID_CRDT_TYPE", "unknown CRDT type " + std::to_string(payload[0]));
  }
  DataPayload d;
  d.crdt_type = *crdt;
  auto body = payload.subspan(1);
  if ((header_flags & kFlagHasTtl) && body.size() >= 4) {
    auto split = body.size() - 4;
    Reader r(body.subspan(split));
    std::uint32_t ttl;
    read(r, ttl);
    d.ttl_secs = ttl;
    body = body.first(split);
  }
  d.crdt.assign(body.begin(), body.end());
  return d;
}

Result<Bytes> encode_lww(const LwwRegister& reg) {
  if (reg.value.size() > 0xFFFF) {
    return err("LITE_FIELD_TOO_LARGE", "LWW value exceeds 65535 bytes");
  }
  Writer w;
  write(w, reg.timestamp);
  write(w, reg.node_id);
  write(w, static_cast<std::uint16_t>(reg.value.size()));
  w.bytes(reg.value);
  return w.take();
}

Bytes encode_lww_unprefixed(const LwwRegister& reg) {
  Writer w;
  write(w, reg.timestamp);
  write(w, reg.node_id);
  w.bytes(reg.value);
  return w.take();
}

Result<LwwRegister> decode_lww(ByteView crdt) {
  Reader r(crdt);
  LwwRegister reg;
  if (!read(r, reg.timestamp) || !read(r, reg.node_id)) return truncated("LWW timestamp/node id");
  // The value may carry a u16 length prefix (peat-lite's layout) or not (the unprefixed one).
  auto len = Reader(r).u16();  // a peek: r itself does not move
  if (len && *len == r.remaining() - 2) r.take(2);
  auto rest = r.rest();
  reg.value.assign(rest.begin(), rest.end());
  return reg;
}

std::uint64_t GCounter::total() const {
  std::uint64_t t = 0;
  for (const auto& [node, count] : counts) t += count;
  return t;
}

Result<Bytes> encode_gcounter(const GCounter& c) {
  if (c.counts.size() > 0xFFFF) return count_too_large("GCounter");
  Writer w;
  write(w, c.local_node_id);
  write(w, static_cast<std::uint16_t>(c.counts.size()));
  for (const auto& [node, count] : c.counts) {
    write(w, node);
    write(w, count);
  }
  return w.take();
}

Result<GCounter> decode_gcounter(ByteView crdt) {
  Reader r(crdt);
  GCounter c;
  std::uint16_t n;
  if (!read(r, c.local_node_id) || !read(r, n)) return truncated("GCounter header");
  if (r.remaining() / 12 < n) return truncated("GCounter entries");
  c.counts.resize(n);
  for (auto& [node, count] : c.counts) {
    read(r, node);
    read(r, count);
  }
  return c;
}

std::int64_t PnCounter::net() const {
  std::uint64_t acc = 0;  // unsigned arithmetic wraps without UB
  for (const auto& e : entries) acc += e.increments - e.decrements;
  return static_cast<std::int64_t>(acc);
}

Result<Bytes> encode_pncounter(const PnCounter& c) {
  if (c.entries.size() > 0xFFFF) return count_too_large("PnCounter");
  Writer w;
  write(w, c.local_node_id);
  write(w, static_cast<std::uint16_t>(c.entries.size()));
  for (const auto& e : c.entries) {
    write(w, e.node_id);
    write(w, e.increments);
    write(w, e.decrements);
  }
  return w.take();
}

Result<PnCounter> decode_pncounter(ByteView crdt) {
  Reader r(crdt);
  PnCounter c;
  std::uint16_t n;
  if (!read(r, c.local_node_id) || !read(r, n)) return truncated("PnCounter header");
  if (r.remaining() / 20 < n) return truncated("PnCounter entries");
  c.entries.resize(n);
  for (auto& e : c.entries) {
    read(r, e.node_id);
    read(r, e.increments);
    read(r, e.decrements);
  }
  return c;
}

Result<Bytes> encode_orset(const OrSet& s) {
  if (s.elements.size() > 0xFFFF) return count_too_large("OrSet");
  Writer w;
  write(w, s.local_node_id);
  write(w, static_cast<std::uint16_t>(s.elements.size()));
  for (const auto& e : s.elements) {
    if (e.value.size() > 0xFFFF) return err("LITE_FIELD_TOO_LARGE", "OrSet value > 65535 bytes");
    write(w, e.tag_node_id);
    write(w, e.tag_seq);
    write(w, static_cast<std::uint16_t>(e.value.size()));
    w.bytes(e.value);
  }
  return w.take();
}

Result<OrSet> decode_orset(ByteView crdt) {
  Reader r(crdt);
  OrSet s;
  std::uint16_t n;
  if (!read(r, s.local_node_id) || !read(r, n)) return truncated("OrSet header");
  // Each element needs at least 10 bytes: bound the reservation by what is present.
  s.elements.reserve(std::min<std::size_t>(n, r.remaining() / 10));
  for (std::uint16_t i = 0; i < n; ++i) {
    OrSetElement e;
    std::uint16_t len;
    std::optional<ByteView> v;
    if (!read(r, e.tag_node_id) || !read(r, e.tag_seq) || !read(r, len) || !(v = r.take(len))) {
      return truncated("OrSet element");
    }
    e.value.assign(v->begin(), v->end());
    s.elements.push_back(std::move(e));
  }
  return s;
}

Result<Bytes> encode_document(const DocumentEnvelope& d) {
  if ((d.flags & ~kDocFlagsMask) || (d.flags & kDocFlagEncrypted)) {
    return err("LITE_INVALID_FLAGS", "document flags may only carry the tombstone bit");
  }
  if (d.collection.empty()) return err("LITE_EMPTY_COLLECTION", "collection must not be empty");
  auto has_nul = [](const std::string& s) { return s.find('\0') != std::string::npos; };
  if (has_nul(d.collection) || has_nul(d.doc_id) || !is_valid_utf8(d.collection) ||
      !is_valid_utf8(d.doc_id)) {
    return err("LITE_INVALID_UTF8", "collection and doc id must be UTF-8 without NUL bytes");
  }
  if (d.tombstone() && !d.body.empty()) {
    return err("LITE_TOMBSTONE_WITH_BODY", "a tombstone must not carry a body");
  }
  if (d.collection.size() > 255 || d.doc_id.size() > 0xFFFF || d.body.size() > 0xFFFF) {
    return err("LITE_FIELD_TOO_LARGE",
               "collection <= 255 bytes, doc id and body <= 65535 bytes each");
  }
  Writer w;
  w.out().reserve(14 + d.collection.size() + d.doc_id.size() + d.body.size());
  w.u8(d.flags);
  w.u8(static_cast<std::uint8_t>(d.collection.size()));
  w.bytes(as_bytes(d.collection));
  write(w, static_cast<std::uint16_t>(d.doc_id.size()));
  w.bytes(as_bytes(d.doc_id));
  write(w, d.timestamp_ms);
  write(w, static_cast<std::uint16_t>(d.body.size()));
  w.bytes(d.body);
  return w.take();
}

Result<DocumentEnvelope> decode_document(ByteView payload) {
  if (payload.size() < 2) return err("LITE_TOO_SHORT", "document envelope shorter than 2 bytes");
  Reader r(payload);
  DocumentEnvelope d;
  std::uint8_t coll_len;
  read(r, d.flags);
  read(r, coll_len);
  auto coll = read_text(r, coll_len, "document collection");
  if (!coll) return coll.error();
  if (coll->empty()) return err("LITE_EMPTY_COLLECTION", "document collection is empty");
  if (coll->find('\0') != std::string::npos) {
    return err("LITE_INVALID_UTF8", "document collection contains a NUL byte");
  }
  d.collection = std::move(*coll);
  std::uint16_t id_len;
  if (!read(r, id_len)) return truncated("document id length");
  auto id = read_text(r, id_len, "document id");
  if (!id) return id.error();
  if (id->find('\0') != std::string::npos) {
    return err("LITE_INVALID_UTF8", "document id contains a NUL byte");
  }
  d.doc_id = std::move(*id);
  if (!read(r, d.timestamp_ms)) return truncated("document timestamp");
  std::uint16_t body_len;
  if (!read(r, body_len)) return truncated("document body length");
  auto body = r.take(body_len);
  if (!body) return truncated("document body");
  d.body.assign(body->begin(), body->end());
  return d;
}

std::string ota_result_text(std::uint8_t code) {
  switch (code) {
    case 0x00:
      return "success";
    case 0x01:
      return "hash mismatch";
    case 0x02:
      return "flash error";
    case 0x03:
      return "invalid offer";
    case 0x04:
      return "signature invalid";
    case 0x05:
      return "signature required";
  }
  return "unknown result " + std::to_string(code);
}

std::string OtaOffer::version_text() const {
  auto end = std::find(version.begin(), version.end(), std::uint8_t{0});
  return std::string(version.begin(), end);
}

void OtaOffer::set_version(std::string_view text) {
  version.fill(0);
  auto n = std::min<std::size_t>(text.size(), 15);
  std::memcpy(version.data(), text.data(), n);
}

Bytes encode_ota_offer(const OtaOffer& o) {
  Writer w;
  w.out().reserve(kOtaOfferV2Size);
  w.bytes(o.version);
  write(w, o.firmware_size);
  write(w, o.total_chunks);
  write(w, o.chunk_size);
  w.bytes(o.sha256);
  write(w, o.session_id);
  std::uint16_t flags = o.flags;
  if (o.signature) flags |= kOtaFlagSigned;
  write(w, flags);
  if (o.signature) w.bytes(*o.signature);
  w.out().resize(w.size() + 16, 0);  // reserved
  return w.take();
}

Result<OtaOffer> decode_ota_offer(ByteView payload) {
  if (payload.size() < kOtaOfferSize) {
    return err("LITE_TRUNCATED_FIELD",
               "OTA offer of " + std::to_string(payload.size()) + " bytes is shorter than 76");
  }
  Reader r(payload);
  OtaOffer o;
  // The length check above covers every fixed field; only the signature needs its own check.
  o.version = *r.array<16>();
  read(r, o.firmware_size);
  read(r, o.total_chunks);
  read(r, o.chunk_size);
  o.sha256 = *r.array<32>();
  read(r, o.session_id);
  read(r, o.flags);
  if ((o.flags & kOtaFlagSigned) && payload.size() >= kOtaOfferV2Size) o.signature = r.array<64>();
  return o;
}

Bytes encode_ota_accept(const OtaAccept& m) {
  Writer w;
  write(w, m.session_id);
  write(w, m.resume_chunk);
  return w.take();
}

Result<OtaAccept> decode_ota_accept(ByteView payload) {
  Reader r(payload);
  OtaAccept m;
  if (!read(r, m.session_id) || !read(r, m.resume_chunk)) return truncated("OTA accept");
  return m;
}

Result<Bytes> encode_ota_data(const OtaData& m) {
  if (m.data.size() > kOtaChunkDataSize) {
    return err("LITE_FIELD_TOO_LARGE", "OTA chunk exceeds 448 bytes");
  }
  Writer w;
  write(w, m.session_id);
  write(w, m.chunk_num);
  write(w, static_cast<std::uint16_t>(m.data.size()));
  w.bytes(m.data);
  return w.take();
}

Result<OtaData> decode_ota_data(ByteView payload) {
  Reader r(payload);
  OtaData m;
  std::uint16_t len;
  if (!read(r, m.session_id) || !read(r, m.chunk_num) || !read(r, len))
    return truncated("OTA data header");
  if (len > kOtaChunkDataSize) {
    return err("LITE_FIELD_TOO_LARGE", "OTA chunk length " + std::to_string(len) + " > 448");
  }
  auto b = r.take(len);
  if (!b) return truncated("OTA chunk data");
  m.data.assign(b->begin(), b->end());
  return m;
}

Bytes encode_ota_ack(const OtaAck& m) {
  Writer w;
  write(w, m.session_id);
  write(w, m.acked_chunk);
  return w.take();
}

Result<OtaAck> decode_ota_ack(ByteView payload) {
  Reader r(payload);
  OtaAck m;
  if (!read(r, m.session_id) || !read(r, m.acked_chunk)) return truncated("OTA ack");
  return m;
}

Bytes encode_ota_complete(std::uint16_t session_id) {
  Writer w;
  write(w, session_id);
  return w.take();
}

Result<std::uint16_t> decode_ota_complete(ByteView payload) {
  Reader r(payload);
  std::uint16_t s;
  if (!read(r, s)) return truncated("OTA complete");
  return s;
}

Bytes encode_ota_result(const OtaResult& m) {
  Writer w;
  write(w, m.session_id);
  w.u8(m.code);
  w.u8(0);
  return w.take();
}

Result<OtaResult> decode_ota_result(ByteView payload) {
  Reader r(payload);
  OtaResult m;
  if (!read(r, m.session_id) || !read(r, m.code)) return truncated("OTA result");
  return m;
}

Bytes encode_ota_abort(const OtaAbort& m) {
  Writer w;
  write(w, m.session_id);
  w.u8(m.reason);
  w.u8(0);
  return w.take();
}

Result<OtaAbort> decode_ota_abort(ByteView payload) {
  Reader r(payload);
  OtaAbort m;
  if (!read(r, m.session_id) || !read(r, m.reason)) return truncated("OTA abort");
  return m;
}

}  // namespace peat::lite
