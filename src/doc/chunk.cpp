#include "doc/chunk.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "doc/encoding.hpp"
#include "peat/common/sha256.hpp"

namespace peat::doc::chunk {

namespace {
constexpr std::array<std::uint8_t, 4> kMagic{0x85, 0x6f, 0x4a, 0x83};
}

ChangeHash chunk_hash(ChunkType type, ByteView body) {
  Bytes header;
  header.push_back(static_cast<std::uint8_t>(type));
  enc::put_uleb(header, body.size());
  Sha256 sha;
  sha.update(header);
  sha.update(body);
  return sha.finish();
}

Bytes write_chunk(ChunkType type, ByteView body) {
  return frame_chunk(type, chunk_hash(type, body), body);
}

Bytes frame_chunk(ChunkType type, const ChangeHash& h, ByteView body) {
  Bytes out(kMagic.begin(), kMagic.end());
  out.reserve(body.size() + 20);
  out.insert(out.end(), h.begin(), h.begin() + 4);
  out.push_back(static_cast<std::uint8_t>(type));
  enc::put_uleb(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Result<std::vector<RawChunk>> split_chunks(ByteView data) {
  std::vector<RawChunk> out;
  enc::Reader r(data);
  if (data.empty()) return make_error("MALFORMED", "empty input");
  while (!r.done()) {
    auto magic = r.take(4);
    if (!magic) return make_error("TRUNCATED", "truncated chunk header");
    if (!std::equal(magic->begin(), magic->end(), kMagic.begin())) {
      return make_error("BAD_MAGIC", "not an Automerge chunk (bad magic bytes)");
    }
    auto cks = r.take(4);
    auto type = r.byte();
    if (!cks || !type) return make_error("TRUNCATED", "truncated chunk header");
    auto len = r.uleb();
    if (!len) return make_error("TRUNCATED", "bad chunk length: " + len.error().message);
    auto body = r.take(*len);
    if (!body) return make_error("TRUNCATED", "chunk body is truncated");
    if (*type > 2) {
      return make_error("UNSUPPORTED_CHUNK",
                        "unsupported chunk type " + std::to_string(int{*type}));
    }
    RawChunk c{static_cast<ChunkType>(*type), *body, {}, {}};
    std::memcpy(c.checksum.data(), cks->data(), 4);
    if (c.type != ChunkType::kCompressedChange) {
      c.hash = chunk_hash(c.type, c.body);
      if (!std::equal(c.checksum.begin(), c.checksum.end(), c.hash.begin())) {
        return make_error("BAD_CHECKSUM", "chunk checksum mismatch");
      }
    }
    out.push_back(c);
  }
  return out;
}

namespace {
Bytes deflate_with(ByteView data, int level, int strategy) {
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, -15, 9, strategy);
  Bytes out(deflateBound(&zs, static_cast<uLong>(data.size())) + 16);
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}
}  // namespace

Bytes deflate_raw(ByteView data) {
  // Columns of near-random bytes (typed characters) compress better with Huffman coding
  // alone, and LZ77 matching is the expensive part. Any valid raw DEFLATE stream is accepted
  // by readers, so large columns get whichever method wins on a sample; small ones get both
  // and keep the smaller.
  constexpr int kLevel = 5;
  constexpr std::size_t kSample = 16384;
  if (data.size() > 4 * kSample) {
    ByteView sample = data.subspan(0, kSample);
    std::size_t lz = deflate_with(sample, kLevel, Z_DEFAULT_STRATEGY).size();
    std::size_t hf = deflate_with(sample, kLevel, Z_HUFFMAN_ONLY).size();
    return deflate_with(data, kLevel, lz < hf ? Z_DEFAULT_STRATEGY : Z_HUFFMAN_ONLY);
  }
  Bytes huffman = deflate_with(data, kLevel, Z_HUFFMAN_ONLY);
  Bytes normal = deflate_with(data, kLevel, Z_DEFAULT_STRATEGY);
  return huffman.size() < normal.size() ? huffman : normal;
}

Result<Bytes> inflate_raw(ByteView data, std::size_t max_out) {
  z_stream zs{};
  if (inflateInit2(&zs, -15) != Z_OK) return make_error("DEFLATE", "inflateInit failed");
  Bytes out;
  std::array<std::uint8_t, 16384> buf{};
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = buf.data();
    zs.avail_out = buf.size();
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return make_error("DEFLATE", "corrupt DEFLATE stream");
    }
    std::size_t got = buf.size() - zs.avail_out;
    if (out.size() + got > max_out) {
      inflateEnd(&zs);
      return make_error("DEFLATE", "inflated data too large");
    }
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(got));
    if (rc != Z_STREAM_END && got == 0 && zs.avail_in == 0) {
      inflateEnd(&zs);
      return make_error("DEFLATE", "truncated DEFLATE stream");
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace peat::doc::chunk
