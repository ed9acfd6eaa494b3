// Automerge sync message: the wire format exchanged by generate/receive (V1 0x42, V2 0x43).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/doc/sync/bloom.hpp"
#include "peat/doc/types.hpp"

namespace peat::doc::sync {

enum class MessageVersion : std::uint8_t { kV1 = 0x42, kV2 = 0x43 };

// Bits of the flags byte (sent with its high bit set).
inline constexpr std::uint8_t kFlagSyncReset = 0x01;
inline constexpr std::uint8_t kFlagReadOnly = 0x02;
inline constexpr std::uint8_t kFlagSupportsSyncReset = 0x04;

// Legacy capability codes that may precede the flags byte.
inline constexpr std::uint8_t kCapabilityV1 = 0x01;
inline constexpr std::uint8_t kCapabilityV2 = 0x02;

// The optional trailer: uLEB length, then legacy capability codes (< 0x80) and at most one
// flags byte (>= 0x80). Current peers send `02 02 8X`: capability V2, then the flags.
struct Trailer {
  std::vector<std::uint8_t> capabilities;  // codes < 0x80, in order
  std::optional<std::uint8_t> flags;       // without the high bit
  bool operator==(const Trailer&) const = default;
};

// What the sender already has: the heads of the last sync and a filter of everything after.
struct Have {
  std::vector<ChangeHash> last_sync;
  BloomFilter bloom;
  bool operator==(const Have&) const = default;
};

struct Message {
  MessageVersion version = MessageVersion::kV1;
  std::vector<ChangeHash> heads;  // sender's heads, sorted
  std::vector<ChangeHash> need;   // requested hashes, sorted
  std::vector<Have> have;
  // V1: one change chunk per entry. V2: a single blob (change chunks or a document chunk).
  // Receivers concatenate the entries and load them incrementally.
  std::vector<Bytes> changes;
  std::optional<Trailer> trailer;  // absent: the sender only speaks V1

  bool operator==(const Message&) const = default;
};

Bytes encode_message(const Message& message);
// Strict on structure (counts must fit the input, LEB128 must be minimal), lenient on the
// trailer contents; bytes after the trailer are ignored. Errors: "INVALID_SYNC_MESSAGE".
Result<Message> decode_message(ByteView data);

}  // namespace peat::doc::sync
