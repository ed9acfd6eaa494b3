// Byte reader/writer for the sync wire formats: minimal uLEB128, 32-byte hashes, bounds checks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/doc/types.hpp"

namespace peat::doc::sync::wire {

inline void put_uleb(Bytes& out, std::uint64_t v) {
  do {
    std::uint8_t byte = v & 0x7f;
    v >>= 7;
    if (v != 0) byte |= 0x80;
    out.push_back(byte);
  } while (v != 0);
}

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
  Reader(ByteView data, const char* code) : data_(data), code_(code) {}

  bool empty() const { return pos_ >= data_.size(); }
  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t position() const { return pos_; }

  Error fail(const std::string& what) const {
    return make_error(code_, what + " at offset " + std::to_string(pos_));
  }

  Result<std::uint8_t> byte(const char* what) {
    if (empty()) return fail(std::string("truncated ") + what);
    return data_[pos_++];
  }

  // Shortest-form uLEB128 of at most 64 bits.
  Result<std::uint64_t> uleb(const char* what) {
    std::uint64_t value = 0;
    const std::size_t start = pos_;
    for (unsigned shift = 0;; shift += 7) {
      if (empty()) return fail(std::string("truncated LEB128 in ") + what);
      const std::uint8_t b = data_[pos_++];
      if (shift == 63 && (b & 0x7e) != 0) return fail(std::string("LEB128 overflow in ") + what);
      value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && pos_ - start > 1) return fail(std::string("overlong LEB128 in ") + what);
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
    if (n > remaining()) {
      return fail(std::string("truncated ") + what + " (needs " + std::to_string(n) +
                  " bytes, has " + std::to_string(remaining()) + ")");
    }
    ByteView out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
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
    for (auto& h : out) {
      for (auto& b : h) b = data_[pos_++];
    }
    return out;
  }

 private:
  ByteView data_;
  const char* code_;
  std::size_t pos_ = 0;
};

}  // namespace peat::doc::sync::wire
