// Peat-Lite wire protocol (UDP, ESP32 <-> full node): the 16-byte "PEAT" header, the message
// payloads, the CRDT payload encodings, the DOCUMENT envelope and the OTA messages. Sans-I/O:
// bytes in, values out. Byte-compatible with the peat-lite crate (all integers little-endian).
// Decoders never read out of bounds; every failure is a peat::Error with one of these codes:
//   LITE_BUFFER_TOO_SMALL, LITE_TOO_SHORT, LITE_INVALID_MAGIC, LITE_UNSUPPORTED_VERSION,
//   LITE_INVALID_MESSAGE_TYPE, LITE_PAYLOAD_TOO_LARGE, LITE_TRUNCATED_FIELD, LITE_INVALID_UTF8,
//   LITE_FIELD_TOO_LARGE, LITE_EMPTY_COLLECTION, LITE_INVALID_FLAGS, LITE_TOMBSTONE_WITH_BODY
//   (the peat-lite MessageError variants) and LITE_INVALID_CRDT_TYPE.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/common/sha256.hpp"

namespace peat::lite {

inline constexpr std::array<std::uint8_t, 4> kMagic{0x50, 0x45, 0x41, 0x54};  // "PEAT"
inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::uint16_t kDefaultPort = 5555;
inline constexpr std::size_t kHeaderSize = 16;
inline constexpr std::size_t kMaxPacketSize = 512;
inline constexpr std::size_t kMaxPayloadSize = kMaxPacketSize - kHeaderSize;  // 496

// DATA header flag: the payload ends with a 4-byte TTL (seconds, 0 = never expires).
inline constexpr std::uint16_t kFlagHasTtl = 0x0001;
inline constexpr std::uint32_t kDefaultTtlLww = 300;
inline constexpr std::uint32_t kDefaultTtlGCounter = 3600;
inline constexpr std::uint32_t kDefaultTtlPnCounter = 3600;

enum class MessageType : std::uint8_t {
  kAnnounce = 0x01,
  kHeartbeat = 0x02,
  kData = 0x03,
  kQuery = 0x04,
  kAck = 0x05,
  kLeave = 0x06,
  kDocument = 0x07,
  kOtaOffer = 0x10,
  kOtaAccept = 0x11,
  kOtaData = 0x12,
  kOtaAck = 0x13,
  kOtaComplete = 0x14,
  kOtaResult = 0x15,
  kOtaAbort = 0x16,
};
std::optional<MessageType> message_type_from_u8(std::uint8_t v);
const char* to_string(MessageType type);

enum class CrdtType : std::uint8_t { kLwwRegister = 1, kGCounter = 2, kPnCounter = 3, kOrSet = 4 };
std::optional<CrdtType> crdt_type_from_u8(std::uint8_t v);
std::uint32_t default_ttl(CrdtType type);

// Capability bits carried by ANNOUNCE (u16).
namespace caps {
inline constexpr std::uint16_t kPersistentStorage = 0x0001;
inline constexpr std::uint16_t kRelay = 0x0002;
inline constexpr std::uint16_t kDocumentCrdt = 0x0004;
inline constexpr std::uint16_t kPrimitiveCrdt = 0x0008;
inline constexpr std::uint16_t kBlobStorage = 0x0010;
inline constexpr std::uint16_t kHistoryQuery = 0x0020;
inline constexpr std::uint16_t kAggregation = 0x0040;
inline constexpr std::uint16_t kSensorInput = 0x0080;
inline constexpr std::uint16_t kDisplayOutput = 0x0100;
inline constexpr std::uint16_t kActuation = 0x0200;
inline constexpr std::uint16_t kLite = kPrimitiveCrdt | kSensorInput;  // 0x0088
inline constexpr std::uint16_t kFull = 0x007F;
inline bool can_sync(std::uint16_t a, std::uint16_t b) {
  return (a & kPrimitiveCrdt) && (b & kPrimitiveCrdt);
}
// "[prim-crdt, sensor]" style, as peat-lite prints them.
std::string to_string(std::uint16_t bits);
}  // namespace caps

struct Header {
  MessageType type = MessageType::kHeartbeat;
  std::uint16_t flags = 0;
  std::uint32_t node_id = 0;
  std::uint32_t seq_num = 0;
  bool operator==(const Header&) const = default;
};

struct Packet {
  Header header;
  Bytes payload;
};

// Header + payload; LITE_PAYLOAD_TOO_LARGE when the payload exceeds 496 bytes.
Result<Bytes> encode_packet(const Header& header, ByteView payload);
// LITE_TOO_SHORT (< 16 B), LITE_INVALID_MAGIC, LITE_UNSUPPORTED_VERSION, LITE_INVALID_MESSAGE_TYPE,
// LITE_PAYLOAD_TOO_LARGE (datagram > 512 B).
Result<Packet> decode_packet(ByteView datagram);

// ---- Identity helpers ------------------------------------------------------------------------
// Lite node id of a full node: h = h * 31 + byte over the hostname (wrapping u32, h0 = 0).
std::uint32_t node_id_from_hostname(std::string_view hostname);
// "lite-%08X".
std::string peer_id_for(std::uint32_t node_id);
// Inverse of peer_id_for (accepts upper or lower case hex); nullopt otherwise.
std::optional<std::uint32_t> node_id_from_peer_id(std::string_view peer_id);

// ---- Simple payloads -------------------------------------------------------------------------
Bytes encode_announce(std::uint16_t capabilities);
// LITE_TRUNCATED_FIELD when shorter than 2 bytes.
Result<std::uint16_t> decode_announce(ByteView payload);

Bytes encode_ack(std::uint32_t acked_seq);
Result<std::uint32_t> decode_ack(ByteView payload);

struct QueryRequest {
  CrdtType crdt_type = CrdtType::kLwwRegister;
  std::string collection;
  std::optional<std::string> doc_id;  // none: every document of the collection
  bool operator==(const QueryRequest&) const = default;
};
// LITE_FIELD_TOO_LARGE when the collection or doc id exceeds 255 bytes.
Result<Bytes> encode_query(const QueryRequest& query);
Result<QueryRequest> decode_query(ByteView payload);

// DATA: crdt_type u8 || crdt bytes || [ttl_secs u32 when header flag 0x0001].
struct DataPayload {
  CrdtType crdt_type = CrdtType::kLwwRegister;
  Bytes crdt;                             // TTL suffix already removed
  std::optional<std::uint32_t> ttl_secs;  // set when the flag was present and the suffix fit
};
// Returns the payload and the header flags to send with it.
std::pair<Bytes, std::uint16_t> encode_data(const DataPayload& data);
// LITE_TRUNCATED_FIELD (empty), LITE_INVALID_CRDT_TYPE. A TTL flag on a payload shorter than
// 4 bytes after the type byte is treated as "no TTL", as peat-lite's strip_ttl does.
Result<DataPayload> decode_data(std::uint16_t header_flags, ByteView payload);

// ---- CRDT payload encodings (the bytes after the crdt_type byte) -----------------------------
struct LwwRegister {
  std::uint64_t timestamp = 0;
  std::uint32_t node_id = 0;
  Bytes value;
  bool operator==(const LwwRegister&) const = default;
};
// Device layout: ts u64 || node_id u32 || value_len u16 || value (what ESP32 firmware sends).
Result<Bytes> encode_lww(const LwwRegister& reg);
// Full-node -> device layout: ts u64 || node_id u32 || value (no length; the device reads the
// rest of the payload as the JSON of the document).
Bytes encode_lww_unprefixed(const LwwRegister& reg);
// Accepts the device layout when its length field matches the remaining bytes exactly, and the
// unprefixed layout otherwise. LITE_TRUNCATED_FIELD when shorter than 12 bytes.
Result<LwwRegister> decode_lww(ByteView crdt);

struct GCounter {
  std::uint32_t local_node_id = 0;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> counts;  // node_id, count
  std::uint64_t total() const;
  bool operator==(const GCounter&) const = default;
};
Result<Bytes> encode_gcounter(const GCounter& c);
Result<GCounter> decode_gcounter(ByteView crdt);

struct PnEntry {
  std::uint32_t node_id = 0;
  std::uint64_t increments = 0;
  std::uint64_t decrements = 0;
  bool operator==(const PnEntry&) const = default;
};
struct PnCounter {
  std::uint32_t local_node_id = 0;
  std::vector<PnEntry> entries;
  std::int64_t net() const;  // sum of (inc - dec), wrapping like the Rust i64 arithmetic
  bool operator==(const PnCounter&) const = default;
};
Result<Bytes> encode_pncounter(const PnCounter& c);
Result<PnCounter> decode_pncounter(ByteView crdt);

struct OrSetElement {
  std::uint32_t tag_node_id = 0;
  std::uint32_t tag_seq = 0;
  Bytes value;
  bool operator==(const OrSetElement&) const = default;
};
struct OrSet {
  std::uint32_t local_node_id = 0;
  std::vector<OrSetElement> elements;
  bool operator==(const OrSet&) const = default;
};
Result<Bytes> encode_orset(const OrSet& s);
Result<OrSet> decode_orset(ByteView crdt);

// ---- DOCUMENT envelope (type 0x07) ----------------------------------------------------------
inline constexpr std::uint8_t kDocFlagTombstone = 0x01;
inline constexpr std::uint8_t kDocFlagEncrypted = 0x02;
inline constexpr std::uint8_t kDocFlagsMask = kDocFlagTombstone | kDocFlagEncrypted;

struct DocumentEnvelope {
  std::uint8_t flags = 0;
  std::string collection;
  std::string doc_id;  // empty: the publisher leaves the id to the receiver
  std::int64_t timestamp_ms = 0;
  Bytes body;
  bool tombstone() const { return flags & kDocFlagTombstone; }
  bool encrypted() const { return flags & kDocFlagEncrypted; }
  bool operator==(const DocumentEnvelope&) const = default;
};
// Encoder contract of peat-lite: LITE_INVALID_FLAGS (reserved bits or the encrypted bit),
// LITE_EMPTY_COLLECTION, LITE_INVALID_UTF8 (NUL or invalid UTF-8 in collection/doc id),
// LITE_TOMBSTONE_WITH_BODY, LITE_FIELD_TOO_LARGE. The result may exceed one packet.
Result<Bytes> encode_document(const DocumentEnvelope& doc);
// Permissive on flags (like peat-lite); LITE_TOO_SHORT, LITE_TRUNCATED_FIELD, LITE_INVALID_UTF8,
// LITE_EMPTY_COLLECTION.
Result<DocumentEnvelope> decode_document(ByteView payload);

// ---- OTA (types 0x10-0x16; header seq 0 and flags 0) -----------------------------------------
inline constexpr std::size_t kOtaChunkDataSize = 448;
inline constexpr std::size_t kOtaOfferSize = 76;
inline constexpr std::size_t kOtaOfferV2Size = 140;
inline constexpr std::uint16_t kOtaFlagSigned = 0x0001;
inline constexpr std::size_t kOtaMaxFirmwareSize = 0x300000;  // one 3 MiB A/B slot

enum class OtaResultCode : std::uint8_t {
  kSuccess = 0x00,
  kHashMismatch = 0x01,
  kFlashError = 0x02,
  kInvalidOffer = 0x03,
  kSignatureInvalid = 0x04,
  kSignatureRequired = 0x05,
};
// "hash mismatch", "flash error", ..., "unknown result N".
std::string ota_result_text(std::uint8_t code);

inline constexpr std::uint8_t kOtaAbortTimeout = 0x01;
inline constexpr std::uint8_t kOtaAbortSessionMismatch = 0x02;
inline constexpr std::uint8_t kOtaAbortUserCancel = 0x03;
inline constexpr std::uint8_t kOtaAbortTooManyRetries = 0x04;

struct OtaOffer {
  std::array<std::uint8_t, 16> version{};  // ASCII, NUL padded
  std::uint32_t firmware_size = 0;
  std::uint16_t total_chunks = 0;
  std::uint16_t chunk_size = kOtaChunkDataSize;
  Sha256Digest sha256{};
  std::uint16_t session_id = 0;
  std::uint16_t flags = 0;
  std::optional<std::array<std::uint8_t, 64>> signature;  // over the 32-byte digest
  // The version text up to the first NUL.
  std::string version_text() const;
  // Copies at most 15 bytes so the field stays NUL-terminated.
  void set_version(std::string_view text);
};
// 76 bytes unsigned, 140 bytes when a signature is present (flags get kOtaFlagSigned).
Bytes encode_ota_offer(const OtaOffer& offer);
// LITE_TRUNCATED_FIELD when < 76 bytes. The signature is read only when the flag is set and the
// payload has at least 140 bytes (peat-lite firmware rule).
Result<OtaOffer> decode_ota_offer(ByteView payload);

struct OtaAccept {
  std::uint16_t session_id = 0;
  std::uint16_t resume_chunk = 0;
};
struct OtaData {
  std::uint16_t session_id = 0;
  std::uint16_t chunk_num = 0;
  Bytes data;  // <= 448 bytes
};
struct OtaAck {
  std::uint16_t session_id = 0;
  std::uint16_t acked_chunk = 0;
};
struct OtaResult {
  std::uint16_t session_id = 0;
  std::uint8_t code = 0;
};
struct OtaAbort {
  std::uint16_t session_id = 0;
  std::uint8_t reason = 0;
};

Bytes encode_ota_accept(const OtaAccept& m);
Result<OtaAccept> decode_ota_accept(ByteView payload);
// LITE_FIELD_TOO_LARGE when data exceeds 448 bytes.
Result<Bytes> encode_ota_data(const OtaData& m);
// LITE_TRUNCATED_FIELD when the declared chunk_len exceeds the bytes present;
// LITE_FIELD_TOO_LARGE when chunk_len > 448.
Result<OtaData> decode_ota_data(ByteView payload);
Bytes encode_ota_ack(const OtaAck& m);
Result<OtaAck> decode_ota_ack(ByteView payload);
Bytes encode_ota_complete(std::uint16_t session_id);
Result<std::uint16_t> decode_ota_complete(ByteView payload);
Bytes encode_ota_result(const OtaResult& m);
Result<OtaResult> decode_ota_result(ByteView payload);
Bytes encode_ota_abort(const OtaAbort& m);
Result<OtaAbort> decode_ota_abort(ByteView payload);

}  // namespace peat::lite
