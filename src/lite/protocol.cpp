#include "peat/lite/protocol.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace peat::lite {
namespace {

Error err(const char* code, std::string message) {
  return make_error(code, std::move(message));
}

Error truncated(const char* what) {
  return err("LITE_TRUNCATED_FIELD", std::string("truncated field: ") + what);
}

// Little-endian cursor over outside bytes; every read is bounds-checked.
class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}
  std::size_t remaining() const { return data_.size() - pos_; }
  bool u8(std::uint8_t& v) {
    if (remaining() < 1) return false;
    v = data_[pos_++];
    return true;
  }
  template <typename T>
  bool le(T& v) {
    if (remaining() < sizeof(T)) return false;
    std::uint64_t acc = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      acc |= static_cast<std::uint64_t>(data_[pos_ + i]) << (8 * i);
    }
    v = static_cast<T>(acc);
    pos_ += sizeof(T);
    return true;
  }
  bool bytes(std::size_t n, ByteView& out) {
    if (remaining() < n) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  ByteView rest() const { return data_.subspan(pos_); }

 private:
  ByteView data_;
  std::size_t pos_ = 0;
};

template <typename T>
void put_le(Bytes& out, T v) {
  auto u = static_cast<std::uint64_t>(v);
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<std::uint8_t>(u >> (8 * i)));
}

void put(Bytes& out, ByteView b) {
  out.insert(out.end(), b.begin(), b.end());
}

bool valid_utf8(ByteView s) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::uint8_t c = s[i];
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size() || (s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

Result<std::string> read_text(Reader& r, std::size_t n, const char* what) {
  ByteView b;
  if (!r.bytes(n, b)) return truncated(what);
  if (!valid_utf8(b)) return err("LITE_INVALID_UTF8", std::string(what) + " is not valid UTF-8");
  return std::string(as_chars(b));
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
  Bytes out;
  out.reserve(kHeaderSize + payload.size());
  put(out, kMagic);
  out.push_back(kProtocolVersion);
  out.push_back(static_cast<std::uint8_t>(header.type));
  put_le(out, header.flags);
  put_le(out, header.node_id);
  put_le(out, header.seq_num);
  put(out, payload);
  return out;
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
  r.le(p.header.flags);
  r.le(p.header.node_id);
  r.le(p.header.seq_num);
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
  Bytes out;
  put_le(out, capabilities);
  return out;
}

Result<std::uint16_t> decode_announce(ByteView payload) {
  Reader r(payload);
  std::uint16_t v;
  if (!r.le(v)) return truncated("announce capabilities");
  return v;
}

Bytes encode_ack(std::uint32_t acked_seq) {
  Bytes out;
  put_le(out, acked_seq);
  return out;
}

Result<std::uint32_t> decode_ack(ByteView payload) {
  Reader r(payload);
  std::uint32_t v;
  if (!r.le(v)) return truncated("acked sequence number");
  return v;
}

Result<Bytes> encode_query(const QueryRequest& q) {
  std::string_view id = q.doc_id ? std::string_view(*q.doc_id) : std::string_view();
  if (q.collection.size() > 255 || id.size() > 255) {
    return err("LITE_FIELD_TOO_LARGE", "query collection and doc id are limited to 255 bytes");
  }
  Bytes out;
  out.push_back(static_cast<std::uint8_t>(q.crdt_type));
  out.push_back(static_cast<std::uint8_t>(q.collection.size()));
  put(out, as_bytes(q.collection));
  out.push_back(static_cast<std::uint8_t>(id.size()));
  put(out, as_bytes(id));
  return out;
}

Result<QueryRequest> decode_query(ByteView payload) {
  Reader r(payload);
  std::uint8_t type, coll_len, id_len;
  if (!r.u8(type)) return truncated("query crdt type");
  auto crdt = crdt_type_from_u8(type);
  if (!crdt) {
    return err("LITE_INVALID_CRDT_TYPE", "unknown CRDT type " + std::to_string(type));
  }
  if (!r.u8(coll_len)) return truncated("query collection length");
  QueryRequest q;
  q.crdt_type = *crdt;
  auto coll = read_text(r, coll_len, "query collection");
  if (!coll) return coll.error();
  q.collection = std::move(*coll);
  if (!r.u8(id_len)) return truncated("query doc id length");
  auto id = read_text(r, id_len, "query doc id");
  if (!id) return id.error();
  if (!id->empty()) q.doc_id = std::move(*id);
  return q;
}

std::pair<Bytes, std::uint16_t> encode_data(const DataPayload& data) {
  Bytes out;
  out.push_back(static_cast<std::uint8_t>(data.crdt_type));
  put(out, data.crdt);
  std::uint16_t flags = 0;
  if (data.ttl_secs) {
    put_le(out, *data.ttl_secs);
    flags |= kFlagHasTtl;
  }
  return {std::move(out), flags};
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
    r.le(ttl);
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
  Bytes out;
  put_le(out, reg.timestamp);
  put_le(out, reg.node_id);
  put_le(out, static_cast<std::uint16_t>(reg.value.size()));
  put(out, reg.value);
  return out;
}

Bytes encode_lww_unprefixed(const LwwRegister& reg) {
  Bytes out;
  put_le(out, reg.timestamp);
  put_le(out, reg.node_id);
  put(out, reg.value);
  return out;
}

Result<LwwRegister> decode_lww(ByteView crdt) {
  Reader r(crdt);
  LwwRegister reg;
  if (!r.le(reg.timestamp) || !r.le(reg.node_id)) return truncated("LWW timestamp/node id");
  auto rest = r.rest();
  if (rest.size() >= 2) {
    std::size_t len = rest[0] | (static_cast<std::size_t>(rest[1]) << 8);
    if (len == rest.size() - 2) rest = rest.subspan(2);
  }
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
  Bytes out;
  put_le(out, c.local_node_id);
  put_le(out, static_cast<std::uint16_t>(c.counts.size()));
  for (const auto& [node, count] : c.counts) {
    put_le(out, node);
    put_le(out, count);
  }
  return out;
}

Result<GCounter> decode_gcounter(ByteView crdt) {
  Reader r(crdt);
  GCounter c;
  std::uint16_t n;
  if (!r.le(c.local_node_id) || !r.le(n)) return truncated("GCounter header");
  if (r.remaining() / 12 < n) return truncated("GCounter entries");
  c.counts.resize(n);
  for (auto& [node, count] : c.counts) {
    r.le(node);
    r.le(count);
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
  Bytes out;
  put_le(out, c.local_node_id);
  put_le(out, static_cast<std::uint16_t>(c.entries.size()));
  for (const auto& e : c.entries) {
    put_le(out, e.node_id);
    put_le(out, e.increments);
    put_le(out, e.decrements);
  }
  return out;
}

Result<PnCounter> decode_pncounter(ByteView crdt) {
  Reader r(crdt);
  PnCounter c;
  std::uint16_t n;
  if (!r.le(c.local_node_id) || !r.le(n)) return truncated("PnCounter header");
  if (r.remaining() / 20 < n) return truncated("PnCounter entries");
  c.entries.resize(n);
  for (auto& e : c.entries) {
    r.le(e.node_id);
    r.le(e.increments);
    r.le(e.decrements);
  }
  return c;
}

Result<Bytes> encode_orset(const OrSet& s) {
  if (s.elements.size() > 0xFFFF) return count_too_large("OrSet");
  Bytes out;
  put_le(out, s.local_node_id);
  put_le(out, static_cast<std::uint16_t>(s.elements.size()));
  for (const auto& e : s.elements) {
    if (e.value.size() > 0xFFFF) return err("LITE_FIELD_TOO_LARGE", "OrSet value > 65535 bytes");
    put_le(out, e.tag_node_id);
    put_le(out, e.tag_seq);
    put_le(out, static_cast<std::uint16_t>(e.value.size()));
    put(out, e.value);
  }
  return out;
}

Result<OrSet> decode_orset(ByteView crdt) {
  Reader r(crdt);
  OrSet s;
  std::uint16_t n;
  if (!r.le(s.local_node_id) || !r.le(n)) return truncated("OrSet header");
  // Each element needs at least 10 bytes: bound the reservation by what is present.
  s.elements.reserve(std::min<std::size_t>(n, r.remaining() / 10));
  for (std::uint16_t i = 0; i < n; ++i) {
    OrSetElement e;
    std::uint16_t len;
    ByteView v;
    if (!r.le(e.tag_node_id) || !r.le(e.tag_seq) || !r.le(len) || !r.bytes(len, v)) {
      return truncated("OrSet element");
    }
    e.value.assign(v.begin(), v.end());
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
  if (has_nul(d.collection) || has_nul(d.doc_id) || !valid_utf8(as_bytes(d.collection)) ||
      !valid_utf8(as_bytes(d.doc_id))) {
    return err("LITE_INVALID_UTF8", "collection and doc id must be UTF-8 without NUL bytes");
  }
  if (d.tombstone() && !d.body.empty()) {
    return err("LITE_TOMBSTONE_WITH_BODY", "a tombstone must not carry a body");
  }
  if (d.collection.size() > 255 || d.doc_id.size() > 0xFFFF || d.body.size() > 0xFFFF) {
    return err("LITE_FIELD_TOO_LARGE",
               "collection <= 255 bytes, doc id and body <= 65535 bytes each");
  }
  Bytes out;
  out.reserve(14 + d.collection.size() + d.doc_id.size() + d.body.size());
  out.push_back(d.flags);
  out.push_back(static_cast<std::uint8_t>(d.collection.size()));
  put(out, as_bytes(d.collection));
  put_le(out, static_cast<std::uint16_t>(d.doc_id.size()));
  put(out, as_bytes(d.doc_id));
  put_le(out, d.timestamp_ms);
  put_le(out, static_cast<std::uint16_t>(d.body.size()));
  put(out, d.body);
  return out;
}

Result<DocumentEnvelope> decode_document(ByteView payload) {
  if (payload.size() < 2) return err("LITE_TOO_SHORT", "document envelope shorter than 2 bytes");
  Reader r(payload);
  DocumentEnvelope d;
  std::uint8_t coll_len;
  r.u8(d.flags);
  r.u8(coll_len);
  auto coll = read_text(r, coll_len, "document collection");
  if (!coll) return coll.error();
  if (coll->empty()) return err("LITE_EMPTY_COLLECTION", "document collection is empty");
  if (coll->find('\0') != std::string::npos) {
    return err("LITE_INVALID_UTF8", "document collection contains a NUL byte");
  }
  d.collection = std::move(*coll);
  std::uint16_t id_len;
  if (!r.le(id_len)) return truncated("document id length");
  auto id = read_text(r, id_len, "document id");
  if (!id) return id.error();
  if (id->find('\0') != std::string::npos) {
    return err("LITE_INVALID_UTF8", "document id contains a NUL byte");
  }
  d.doc_id = std::move(*id);
  if (!r.le(d.timestamp_ms)) return truncated("document timestamp");
  std::uint16_t body_len;
  ByteView body;
  if (!r.le(body_len)) return truncated("document body length");
  if (!r.bytes(body_len, body)) return truncated("document body");
  d.body.assign(body.begin(), body.end());
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
  Bytes out;
  out.reserve(kOtaOfferV2Size);
  put(out, o.version);
  put_le(out, o.firmware_size);
  put_le(out, o.total_chunks);
  put_le(out, o.chunk_size);
  put(out, o.sha256);
  put_le(out, o.session_id);
  std::uint16_t flags = o.flags;
  if (o.signature) flags |= kOtaFlagSigned;
  put_le(out, flags);
  if (o.signature) put(out, *o.signature);
  out.resize(out.size() + 16, 0);  // reserved
  return out;
}

Result<OtaOffer> decode_ota_offer(ByteView payload) {
  if (payload.size() < kOtaOfferSize) {
    return err("LITE_TRUNCATED_FIELD",
               "OTA offer of " + std::to_string(payload.size()) + " bytes is shorter than 76");
  }
  Reader r(payload);
  OtaOffer o;
  ByteView b;
  r.bytes(16, b);
  std::copy(b.begin(), b.end(), o.version.begin());
  r.le(o.firmware_size);
  r.le(o.total_chunks);
  r.le(o.chunk_size);
  r.bytes(32, b);
  std::copy(b.begin(), b.end(), o.sha256.begin());
  r.le(o.session_id);
  r.le(o.flags);
  if ((o.flags & kOtaFlagSigned) && payload.size() >= kOtaOfferV2Size) {
    r.bytes(64, b);
    o.signature.emplace();
    std::copy(b.begin(), b.end(), o.signature->begin());
  }
  return o;
}

Bytes encode_ota_accept(const OtaAccept& m) {
  Bytes out;
  put_le(out, m.session_id);
  put_le(out, m.resume_chunk);
  return out;
}

Result<OtaAccept> decode_ota_accept(ByteView payload) {
  Reader r(payload);
  OtaAccept m;
  if (!r.le(m.session_id) || !r.le(m.resume_chunk)) return truncated("OTA accept");
  return m;
}

Result<Bytes> encode_ota_data(const OtaData& m) {
  if (m.data.size() > kOtaChunkDataSize) {
    return err("LITE_FIELD_TOO_LARGE", "OTA chunk exceeds 448 bytes");
  }
  Bytes out;
  put_le(out, m.session_id);
  put_le(out, m.chunk_num);
  put_le(out, static_cast<std::uint16_t>(m.data.size()));
  put(out, m.data);
  return out;
}

Result<OtaData> decode_ota_data(ByteView payload) {
  Reader r(payload);
  OtaData m;
  std::uint16_t len;
  if (!r.le(m.session_id) || !r.le(m.chunk_num) || !r.le(len)) return truncated("OTA data header");
  if (len > kOtaChunkDataSize) {
    return err("LITE_FIELD_TOO_LARGE", "OTA chunk length " + std::to_string(len) + " > 448");
  }
  ByteView b;
  if (!r.bytes(len, b)) return truncated("OTA chunk data");
  m.data.assign(b.begin(), b.end());
  return m;
}

Bytes encode_ota_ack(const OtaAck& m) {
  Bytes out;
  put_le(out, m.session_id);
  put_le(out, m.acked_chunk);
  return out;
}

Result<OtaAck> decode_ota_ack(ByteView payload) {
  Reader r(payload);
  OtaAck m;
  if (!r.le(m.session_id) || !r.le(m.acked_chunk)) return truncated("OTA ack");
  return m;
}

Bytes encode_ota_complete(std::uint16_t session_id) {
  Bytes out;
  put_le(out, session_id);
  return out;
}

Result<std::uint16_t> decode_ota_complete(ByteView payload) {
  Reader r(payload);
  std::uint16_t s;
  if (!r.le(s)) return truncated("OTA complete");
  return s;
}

Bytes encode_ota_result(const OtaResult& m) {
  Bytes out;
  put_le(out, m.session_id);
  out.push_back(m.code);
  out.push_back(0);
  return out;
}

Result<OtaResult> decode_ota_result(ByteView payload) {
  Reader r(payload);
  OtaResult m;
  if (!r.le(m.session_id) || !r.u8(m.code)) return truncated("OTA result");
  return m;
}

Bytes encode_ota_abort(const OtaAbort& m) {
  Bytes out;
  put_le(out, m.session_id);
  out.push_back(m.reason);
  out.push_back(0);
  return out;
}

Result<OtaAbort> decode_ota_abort(ByteView payload) {
  Reader r(payload);
  OtaAbort m;
  if (!r.le(m.session_id) || !r.u8(m.reason)) return truncated("OTA abort");
  return m;
}

}  // namespace peat::lite
