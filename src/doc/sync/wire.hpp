// Byte reader/writer for the sync wire formats: minimal uLEB128, 32-byte hashes, bounds checks.
// Encoding uses the document engine's uLEB128; decoding keeps its own uLEB128 reader because
// sync errors carry the message's own code and the offset, unlike enc::Reader's MALFORMED.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "doc/encoding.hpp"
#include "peat/common/byte_io.hpp"
#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/doc/types.hpp"

namespace peat::doc::sync::wire {

using enc::put_uleb;

inline void put_hashes(Bytes& out, const std::vector<ChangeHash>& hashes) {
  put_uleb(out, hashes.size());
  for (const auto& h : hashes) out.insert(out.end(), h.begin(), h.end());
}

inline void put_bytes(Bytes& out, ByteView bytes) {
  put_uleb(out, bytes.size());
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// Reads from a span; every failure carries `code` and a message naming what was being read.
class Reader {
 public:
  Reader(ByteView data, const char* code) : in_(data), code_(code) {}

  bool empty() const { return in_.done(); }
  std::size_t remaining() const { return in_.remaining(); }
  std::size_t position() const { return in_.pos(); }

  Error fail(const std::string& what) const {
    return make_error(code_, what + " at offset " + std::to_string(in_.pos()));
  }

  Result<std::uint8_t> byte(const char* what) {
    auto b = in_.u8();
    if (!b) return fail(std::string("truncated ") + what);
    return *b;
  }

  // Shortest-form uLEB128 of at most 64 bits.
  Result<std::uint64_t> uleb(const char* what) {
    std::uint64_t value = 0;
    const std::size_t start = in_.pos();
    for (unsigned shift = 0;; shift += 7) {
      auto next = in_.u8();
      if (!next) return fail(std::string("truncated LEB128 in ") + what);
      const std::uint8_t b = *next;
      if (shift == 63 && (b & 0x7e) != 0) return fail(std::string("LEB128 overflow in ") + what);
      value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && in_.pos() - start > 1) {
          return fail(std::string("overlong LEB128 in ") + what);
        }
        return value;
      }
      if (shift == 63) return fail(std::string("LEB128 overflow in ") + what);
    }
  }

  Result<std::uint32_t> uleb32(const char* what) {
    auto v = uleb(what);
    if (!v) return v.error();
    if (*v > 0xffffffffULL) return fail(std::string(what) + " does not fit 32 bits");
    return static_cast<std::uint32_t>(*v);
  }

  Result<ByteView> take(std::size_t n, const char* what) {
    auto out = in_.take(n);
    if (!out) {
      return fail(std::string("truncated ") + what + " (needs " + std::to_string(n) +
                  " bytes, has " + std::to_string(remaining()) + ")");
    }
    return *out;
  }

  // uLEB length + that many bytes.
  Result<ByteView> length_prefixed(const char* what) {
    auto n = uleb(what);
    if (!n) return n.error();
    return take(*n, what);
  }

  // uLEB count + count x 32 bytes. The count is checked against the input before allocating.
  Result<std::vector<ChangeHash>> hashes(const char* what) {
    auto n = uleb(what);
    if (!n) return n.error();
    if (*n > remaining() / 32) {
      return fail(std::string("truncated ") + what + " (" + std::to_string(*n) +
                  " hashes declared)");
    }
    std::vector<ChangeHash> out(*n);
    for (auto& h : out) h = *in_.array<32>();
    return out;
  }

 private:
  LeReader in_;  // single bytes only: the byte order is never used
  const char* code_;
};

}  // namespace peat::doc::sync::wire
