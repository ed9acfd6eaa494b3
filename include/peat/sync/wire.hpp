// Sync wire format: the Rust peat-mesh "v2/v3 frame" and its payloads, byte-compatible, plus the
// message types this implementation adds (numbers >= 0x10, documented in docs/sync.md).
//
//   frame = u16 BE key_len, key (UTF-8), u8 type, u32 BE payload_len, payload
//
// Decoders take bytes from the network: they never read out of bounds, never allocate more than
// the input (plus the caps below) and return "SYNC_DECODE" errors with a precise message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/sync/negentropy_storage.hpp"

namespace peat::sync {

enum class MessageType : std::uint8_t {
  kDeltaSync = 0x00,           // Automerge sync message
  kStateSnapshot = 0x01,       // Automerge save() bytes (LatestOnly collections)
  kWindowedHistory = 0x02,     // defined by Rust, never sent; accepted only inside batches
  kTombstone = 0x04,           // TombstoneMessage
  kTombstoneBatch = 0x05,      // TombstoneBatch
  kTombstoneAck = 0x06,        // ignored payload
  kSyncBatch = 0x07,           // SyncBatch
  kNegentropyInit = 0x08,      // first negentropy message of a round (initiator → responder)
  kNegentropyResponse = 0x09,  // later negentropy messages, either direction
  kNegentropyRequest = 0x0A,   // defined by Rust, never sent, rejected
  // ---- added by peat-mesh C++ (unknown to the Rust crate) ----
  kNegentropyNeed = 0x10,  // initiator → responder: ids the initiator lacks (u32 n, n x 32 bytes)
  kNegentropyContinue = 0x11,  // initiator → responder: a later round (Rust reuses 0x09 for it)
  kDeclined = 0x12,            // "do not send me this document" (key = document key, u8 reason)
};

// Whether `type` is a message type this implementation accepts as a top-level frame.
bool is_known_type(std::uint8_t type);
const char* to_string(MessageType type);

// Pseudo-keys of frames that carry no document key.
inline constexpr std::string_view kBatchKey = "batch";
inline constexpr std::string_view kTombstoneBatchKey = "tombstones:batch";
inline constexpr std::string_view kNegentropyKey = "_negentropy";
inline constexpr std::size_t kFrameHeaderSize = 2 + 1 + 4;  // plus the key
// Default cap on a frame's payload (the Rust crate has none; a u32 length would allow 4 GiB).
inline constexpr std::size_t kDefaultMaxPayload = 16u << 20;

struct Frame {
  std::string key;
  MessageType type = MessageType::kDeltaSync;
  Bytes payload;
  bool operator==(const Frame&) const = default;
};

// Errors: "INVALID_ARGUMENT" when the key exceeds 65535 bytes or the payload 2^32-1.
Result<Bytes> encode_frame(std::string_view key, MessageType type, ByteView payload);
// Exactly one frame filling `data`. Unknown types, invalid UTF-8 keys, payloads above
// max_payload, truncation and trailing bytes are errors.
Result<Frame> decode_frame(ByteView data, std::size_t max_payload = kDefaultMaxPayload);
// A stream of back-to-back frames (what a Rust stream carries): decodes as many whole frames
// as `data` holds; `consumed` is the number of bytes used (a partial frame at the end is left).
Result<std::vector<Frame>> decode_frames(ByteView data, std::size_t& consumed,
                                         std::size_t max_payload = kDefaultMaxPayload);

// ---- tombstones ----------------------------------------------------------------------------
enum class PropagationDirection : std::uint8_t {
  kBidirectional = 0,
  kUpOnly = 1,
  kDownOnly = 2,
  kSystemWide = 3
};

struct TombstoneMessage {
  std::string collection;
  std::string document_id;
  std::uint64_t deleted_at_ms = 0;
  std::uint64_t lamport = 0;
  std::string deleted_by;
  std::optional<std::string> reason;  // empty string on the wire = none
  PropagationDirection direction = PropagationDirection::kBidirectional;
  bool operator==(const TombstoneMessage&) const = default;
};

Result<Bytes> encode_tombstone(const TombstoneMessage& message);
Result<TombstoneMessage> decode_tombstone(ByteView data);
Result<Bytes> encode_tombstone_batch(const std::vector<TombstoneMessage>& batch);
Result<std::vector<TombstoneMessage>> decode_tombstone_batch(ByteView data);

// ---- batches ---------------------------------------------------------------------------------
struct SyncBatch {
  std::uint64_t batch_id = 0;
  std::uint64_t created_at_ms = 0;
  std::uint8_t ttl = 5;  // hops left
  std::vector<Frame> entries;
  bool operator==(const SyncBatch&) const = default;
};

Result<Bytes> encode_sync_batch(const SyncBatch& batch);
// Entry types accepted (as the Rust decoder): 0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07; any
// other type fails the whole batch.
Result<SyncBatch> decode_sync_batch(ByteView data, std::size_t max_payload = kDefaultMaxPayload);
// SHA-256 over the entries only (not id, time or ttl): the same content relayed along different
// paths, or with a lower ttl, has the same digest. Used to de-duplicate relays.
std::array<std::uint8_t, 32> batch_content_digest(const SyncBatch& batch);

// ---- declined (0x12) --------------------------------------------------------------------------
enum class DeclineReason : std::uint8_t {
  kEvicted = 1,  // removed locally under storage pressure (no tombstone): do not push it here
};
Bytes encode_declined(DeclineReason reason);
// Exactly one byte holding a known reason.
Result<DeclineReason> decode_declined(ByteView data);

// ---- negentropy need list (0x10) -----------------------------------------------------------
Bytes encode_need_list(const std::vector<NegId>& ids);
Result<std::vector<NegId>> decode_need_list(ByteView data);

}  // namespace peat::sync
