// The chunk container (magic, checksum, type, length, body) and raw DEFLATE helpers.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/doc/types.hpp"

namespace peat::doc::chunk {

enum class ChunkType : std::uint8_t { kDocument = 0, kChange = 1, kCompressedChange = 2 };

struct RawChunk {
  ChunkType type;
  ByteView body;                         // as written (compressed for type 2)
  std::array<std::uint8_t, 4> checksum;  // as written
  ChangeHash hash;                       // SHA-256(type || uLEB(len) || body) for types 0 and 1
};

// SHA-256 over type || uLEB(len) || body.
ChangeHash chunk_hash(ChunkType type, ByteView body);
// Wraps a body in a chunk header with its checksum.
Bytes write_chunk(ChunkType type, ByteView body);
// The same when the body's chunk_hash is already known.
Bytes frame_chunk(ChunkType type, const ChangeHash& hash, ByteView body);
// Splits concatenated chunks; verifies the checksum of types 0 and 1 (type 2 is checked by the
// caller after inflating). Rejects unknown types and truncated input.
Result<std::vector<RawChunk>> split_chunks(ByteView data);

Bytes deflate_raw(ByteView data);
// Inflates a raw DEFLATE stream; fails on corrupt data or output above `max_out` bytes.
Result<Bytes> inflate_raw(ByteView data, std::size_t max_out);

}  // namespace peat::doc::chunk
