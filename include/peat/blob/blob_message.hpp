// Wire messages of the blob transfer protocol on transport::Channel::kBlobs (see docs/blobs.md
// for the byte layout). Every message starts with a version byte, a type byte and the 32-bit
// transfer id chosen by the fetching side; integers are big-endian.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "peat/blob/blob_store.hpp"
#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"

namespace peat::blob {

inline constexpr std::uint8_t kBlobProtocolVersion = 1;
// Largest chunk a receiver accepts in one CHUNK message, whatever the offer says.
inline constexpr std::uint32_t kMaxChunkSize = 16 * 1024 * 1024;
// Longest metadata string / most custom metadata entries in an OFFER.
inline constexpr std::size_t kMaxMetadataString = 4096;
inline constexpr std::size_t kMaxMetadataEntries = 64;

enum class BlobMessageType : std::uint8_t {
  kRequest = 1,  // fetcher -> server: send `hash` from `offset`
  kOffer = 2,    // server -> fetcher: size, metadata, start offset, chunk size
  kChunk = 3,    // server -> fetcher: bytes at `offset`
  kEnd = 4,      // server -> fetcher: every byte was sent
  kError = 5,    // either way: the transfer is over, with a reason
  kAck = 6,      // fetcher -> server: bytes written so far (cumulative), and the window
};

struct RequestMsg {
  std::uint32_t transfer_id = 0;
  BlobHash hash{};
  std::uint64_t offset = 0;  // resume offset (bytes the fetcher already holds verified)
  std::uint32_t window = 0;  // chunks the server may have unacknowledged
  bool operator==(const RequestMsg&) const = default;
};

struct OfferMsg {
  std::uint32_t transfer_id = 0;
  BlobHash hash{};
  std::uint64_t size = 0;
  std::uint64_t offset = 0;  // where the chunks will start (= the request's offset)
  std::uint32_t chunk_size = 0;
  BlobMetadata metadata;
  bool operator==(const OfferMsg&) const = default;
};

// `data` views the decoded buffer.
struct ChunkMsg {
  std::uint32_t transfer_id = 0;
  std::uint64_t offset = 0;
  ByteView data;
};

struct EndMsg {
  std::uint32_t transfer_id = 0;
  std::uint64_t size = 0;
  bool operator==(const EndMsg&) const = default;
};

struct ErrorMsg {
  std::uint32_t transfer_id = 0;
  std::string code;  // UPPER_SNAKE, at most 64 bytes
  std::string message;
  bool operator==(const ErrorMsg&) const = default;
};

struct AckMsg {
  std::uint32_t transfer_id = 0;
  std::uint64_t offset = 0;  // everything before this is written (cumulative)
  std::uint32_t window = 0;  // chunks the server may have beyond `offset`
  bool operator==(const AckMsg&) const = default;
};

using BlobMessage = std::variant<RequestMsg, OfferMsg, ChunkMsg, EndMsg, ErrorMsg, AckMsg>;

Bytes encode(const RequestMsg& m);
Bytes encode(const OfferMsg& m);
Bytes encode(const ChunkMsg& m);
Bytes encode(const EndMsg& m);
Bytes encode(const ErrorMsg& m);
Bytes encode(const AckMsg& m);

// Errors (code "BLOB_BAD_MESSAGE" with what is wrong): empty or truncated input, unknown version
// or type, trailing bytes, invalid UTF-8 or oversized metadata, offsets past the size, a chunk
// size of 0 or above kMaxChunkSize, a chunk that overflows a 64-bit offset.
Result<BlobMessage> decode_message(ByteView bytes);

std::uint32_t transfer_id_of(const BlobMessage& message);

}  // namespace peat::blob
