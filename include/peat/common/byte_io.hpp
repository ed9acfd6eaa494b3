// Fixed-width integer I/O for wire formats: a growing writer and a bounds-checked reader,
// big- or little-endian. Every decoder of outside bytes reads through ByteReader, so a
// truncated input is an empty optional, never an out-of-bounds read.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "peat/common/bytes.hpp"

namespace peat {

enum class Endian : std::uint8_t { kLittle, kBig };

template <Endian E>
class ByteWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) { put(v, 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void bytes(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void str(std::string_view s) { bytes(as_bytes(s)); }

  std::size_t size() const { return out_.size(); }
  Bytes& out() { return out_; }
  Bytes take() { return std::move(out_); }

 private:
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) {
      int shift = E == Endian::kLittle ? 8 * i : 8 * (n - 1 - i);
      out_.push_back(static_cast<std::uint8_t>(v >> shift));
    }
  }
  Bytes out_;
};

template <Endian E>
class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}

  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t pos() const { return pos_; }
  bool done() const { return pos_ == data_.size(); }

  std::optional<ByteView> take(std::size_t n) {
    if (n > remaining()) return std::nullopt;
    ByteView v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
  }
  ByteView rest() {
    ByteView v = data_.subspan(pos_);
    pos_ = data_.size();
    return v;
  }
  std::optional<std::uint8_t> u8() {
    if (remaining() < 1) return std::nullopt;
    return data_[pos_++];
  }
  std::optional<std::uint16_t> u16() { return get<std::uint16_t>(2); }
  std::optional<std::uint32_t> u32() { return get<std::uint32_t>(4); }
  std::optional<std::uint64_t> u64() { return get<std::uint64_t>(8); }

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
  std::optional<T> get(std::size_t n) {
    if (remaining() < n) return std::nullopt;
    T v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t shift = E == Endian::kLittle ? 8 * i : 8 * (n - 1 - i);
      v |= static_cast<T>(static_cast<T>(data_[pos_ + i]) << shift);
    }
    pos_ += n;
    return v;
  }
  ByteView data_;
  std::size_t pos_ = 0;
};

using LeWriter = ByteWriter<Endian::kLittle>;
using LeReader = ByteReader<Endian::kLittle>;
using BeWriter = ByteWriter<Endian::kBig>;
using BeReader = ByteReader<Endian::kBig>;

}  // namespace peat
