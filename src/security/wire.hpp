// Little-endian byte writer and bounds-checked reader for the security wire formats.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "peat/common/bytes.hpp"
#include "peat/security/errors.hpp"

namespace peat::security::detail {

class Writer {
 public:
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) {
    for (int i = 0; i < 2; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void bytes(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void str(std::string_view s) { bytes(as_bytes(s)); }
  Bytes& out() { return out_; }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}
  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t pos() const { return pos_; }

  std::optional<ByteView> take(std::size_t n) {
    if (n > remaining()) return std::nullopt;
    ByteView v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
  }
  std::optional<std::uint8_t> u8() {
    if (remaining() < 1) return std::nullopt;
    return data_[pos_++];
  }
  std::optional<std::uint16_t> u16() { return uint<std::uint16_t>(2); }
  std::optional<std::uint32_t> u32() { return uint<std::uint32_t>(4); }
  std::optional<std::uint64_t> u64() { return uint<std::uint64_t>(8); }

  template <std::size_t N>
  std::optional<std::array<std::uint8_t, N>> array() {
    auto v = take(N);
    if (!v) return std::nullopt;
    std::array<std::uint8_t, N> out;
    std::copy(v->begin(), v->end(), out.begin());
    return out;
  }

 private:
  template <typename T>
  std::optional<T> uint(std::size_t n) {
    if (remaining() < n) return std::nullopt;
    T v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= static_cast<T>(T{data_[pos_ + i]} << (8 * i));
    pos_ += n;
    return v;
  }
  ByteView data_;
  std::size_t pos_ = 0;
};

// Strict UTF-8 check (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(ByteView s);

inline Error serialization(std::string message) {
  return security_error(errc::kSerializationError, std::move(message));
}

}  // namespace peat::security::detail
