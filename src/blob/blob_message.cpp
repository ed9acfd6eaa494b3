#include "peat/blob/blob_message.hpp"

#include <limits>

#include "peat/common/byte_io.hpp"
#include "peat/common/utf8.hpp"

namespace peat::blob {

namespace {

using Writer = ByteWriter<Endian::kBig>;
using Reader = ByteReader<Endian::kBig>;

constexpr std::size_t kMaxErrorCode = 64;
constexpr std::size_t kMaxErrorMessage = 4096;

Writer header(BlobMessageType type, std::uint32_t transfer_id) {
  Writer w;
  w.u8(kBlobProtocolVersion);
  w.u8(static_cast<std::uint8_t>(type));
  w.u32(transfer_id);
  return w;
}

void put_string(Writer& w, std::string_view s) {
  w.u16(static_cast<std::uint16_t>(s.size()));
  w.str(s);
}

Error bad(const std::string& what) {
  return make_error("BLOB_BAD_MESSAGE", what);
}

Result<std::string> get_string(Reader& r, std::size_t max, const char* what) {
  auto len = r.u16();
  if (!len) return bad(std::string("truncated length of ") + what);
  if (*len > max) {
    return bad(std::string(what) + " is " + std::to_string(*len) + " bytes, more than " +
               std::to_string(max));
  }
  auto data = r.take(*len);
  if (!data) return bad(std::string("truncated ") + what);
  if (!is_valid_utf8(*data)) return bad(std::string(what) + " is not valid UTF-8");
  return std::string(as_chars(*data));
}

}  // namespace

Bytes encode(const RequestMsg& m) {
  Writer w = header(BlobMessageType::kRequest, m.transfer_id);
  w.bytes(m.hash);
  w.u64(m.offset);
  w.u32(m.window);
  return w.take();
}

Bytes encode(const OfferMsg& m) {
  Writer w = header(BlobMessageType::kOffer, m.transfer_id);
  w.bytes(m.hash);
  w.u64(m.size);
  w.u64(m.offset);
  w.u32(m.chunk_size);
  std::uint8_t flags = 0;
  if (m.metadata.name) flags |= 1;
  if (m.metadata.content_type) flags |= 2;
  w.u8(flags);
  if (m.metadata.name) put_string(w, *m.metadata.name);
  if (m.metadata.content_type) put_string(w, *m.metadata.content_type);
  w.u16(static_cast<std::uint16_t>(m.metadata.custom.size()));
  for (const auto& [k, v] : m.metadata.custom) {
    put_string(w, k);
    put_string(w, v);
  }
  return w.take();
}

Bytes encode(const ChunkMsg& m) {
  Writer w = header(BlobMessageType::kChunk, m.transfer_id);
  w.out().reserve(14 + m.data.size());
  w.u64(m.offset);
  w.bytes(m.data);
  return w.take();
}

Bytes encode(const EndMsg& m) {
  Writer w = header(BlobMessageType::kEnd, m.transfer_id);
  w.u64(m.size);
  return w.take();
}

Bytes encode(const ErrorMsg& m) {
  Writer w = header(BlobMessageType::kError, m.transfer_id);
  put_string(w, std::string_view(m.code).substr(0, kMaxErrorCode));
  put_string(w, std::string_view(m.message).substr(0, kMaxErrorMessage));
  return w.take();
}

Bytes encode(const AckMsg& m) {
  Writer w = header(BlobMessageType::kAck, m.transfer_id);
  w.u64(m.offset);
  w.u32(m.window);
  return w.take();
}

Result<BlobMessage> decode_message(ByteView bytes) {
  Reader r(bytes);
  auto version = r.u8();
  auto type = r.u8();
  auto id = r.u32();
  if (!version || !type || !id) return bad("truncated header (6 bytes needed)");
  if (*version != kBlobProtocolVersion) {
    return bad("unsupported protocol version " + std::to_string(*version));
  }
  BlobMessage out;
  switch (static_cast<BlobMessageType>(*type)) {
    case BlobMessageType::kRequest: {
      RequestMsg m;
      m.transfer_id = *id;
      auto hash = r.array<32>();
      auto offset = r.u64();
      auto window = r.u32();
      if (!hash || !offset || !window) return bad("truncated REQUEST");
      m.hash = *hash;
      m.offset = *offset;
      m.window = *window;
      if (m.window == 0) return bad("REQUEST with a window of 0 chunks");
      out = m;
      break;
    }
    case BlobMessageType::kOffer: {
      OfferMsg m;
      m.transfer_id = *id;
      auto hash = r.array<32>();
      auto size = r.u64();
      auto offset = r.u64();
      auto chunk = r.u32();
      auto flags = r.u8();
      if (!hash || !size || !offset || !chunk || !flags) return bad("truncated OFFER");
      m.hash = *hash;
      m.size = *size;
      m.offset = *offset;
      m.chunk_size = *chunk;
      if (m.offset > m.size) {
        return bad("OFFER starts at " + std::to_string(m.offset) + ", past its size " +
                   std::to_string(m.size));
      }
      if (m.chunk_size == 0 || m.chunk_size > kMaxChunkSize) {
        return bad("OFFER chunk size " + std::to_string(m.chunk_size) + " outside 1.." +
                   std::to_string(kMaxChunkSize));
      }
      if ((*flags & ~3u) != 0) return bad("OFFER has unknown flag bits");
      if (*flags & 1) {
        auto name = get_string(r, kMaxMetadataString, "metadata name");
        if (!name.ok()) return name.error();
        m.metadata.name = std::move(*name);
      }
      if (*flags & 2) {
        auto ct = get_string(r, kMaxMetadataString, "metadata content type");
        if (!ct.ok()) return ct.error();
        m.metadata.content_type = std::move(*ct);
      }
      auto count = r.u16();
      if (!count) return bad("truncated OFFER metadata count");
      if (*count > kMaxMetadataEntries) {
        return bad("OFFER has " + std::to_string(*count) + " metadata entries, more than " +
                   std::to_string(kMaxMetadataEntries));
      }
      for (std::uint16_t i = 0; i < *count; ++i) {
        auto k = get_string(r, kMaxMetadataString, "metadata key");
        if (!k.ok()) return k.error();
        auto v = get_string(r, kMaxMetadataString, "metadata value");
        if (!v.ok()) return v.error();
        if (!m.metadata.custom.emplace(std::move(*k), std::move(*v)).second) {
          return bad("OFFER repeats a metadata key");
        }
      }
      out = std::move(m);
      break;
    }
    case BlobMessageType::kChunk: {
      ChunkMsg m;
      m.transfer_id = *id;
      auto offset = r.u64();
      if (!offset) return bad("truncated CHUNK");
      m.offset = *offset;
      m.data = r.rest();
      if (m.data.empty()) return bad("empty CHUNK");
      if (m.data.size() > kMaxChunkSize) {
        return bad("CHUNK of " + std::to_string(m.data.size()) + " bytes, more than " +
                   std::to_string(kMaxChunkSize));
      }
      if (m.offset > std::numeric_limits<std::uint64_t>::max() - m.data.size()) {
        return bad("CHUNK overflows a 64-bit offset");
      }
      out = m;
      break;
    }
    case BlobMessageType::kEnd: {
      auto size = r.u64();
      if (!size) return bad("truncated END");
      out = EndMsg{*id, *size};
      break;
    }
    case BlobMessageType::kError: {
      auto code = get_string(r, kMaxErrorCode, "error code");
      if (!code.ok()) return code.error();
      auto message = get_string(r, kMaxErrorMessage, "error message");
      if (!message.ok()) return message.error();
      out = ErrorMsg{*id, std::move(*code), std::move(*message)};
      break;
    }
    case BlobMessageType::kAck: {
      auto offset = r.u64();
      auto window = r.u32();
      if (!offset || !window) return bad("truncated ACK");
      if (*window == 0) return bad("ACK with a window of 0 chunks");
      out = AckMsg{*id, *offset, *window};
      break;
    }
    default:
      return bad("unknown message type " + std::to_string(*type));
  }
  if (!r.done()) {
    return bad(std::to_string(r.remaining()) + " trailing bytes after message type " +
               std::to_string(*type));
  }
  return out;
}

std::uint32_t transfer_id_of(const BlobMessage& message) {
  return std::visit([](const auto& m) { return m.transfer_id; }, message);
}

}  // namespace peat::blob
