// Storage encoding primitives of the Automerge binary format: LEB128, the byte reader, and the
// column codecs (RLE of uLEB/sLEB/strings, delta, boolean), all with canonical encoders.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/common/utf8.hpp"

namespace peat::doc::enc {

void put_uleb(Bytes& out, std::uint64_t v);
void put_sleb(Bytes& out, std::int64_t v);
std::size_t uleb_size(std::uint64_t v);

// Reads from a byte span; every read is bounds-checked and strict (minimal LEB128 forms).
class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  Result<std::uint64_t> uleb();
  Result<std::int64_t> sleb();
  Result<std::uint8_t> byte();
  Result<ByteView> take(std::size_t n);
  ByteView rest() const { return data_.subspan(pos_); }

 private:
  ByteView data_;
  std::size_t pos_ = 0;
};

Error malformed(std::string message);

// True when `s` is well-formed UTF-8 (no surrogates, no overlongs): the shared strict check.
inline bool valid_utf8(std::string_view s) {
  return is_valid_utf8(s);
}
// Width of a UTF-8 string in UTF-16 code units (input assumed valid).
std::size_t utf16_len(std::string_view s);

// ---- RLE -----------------------------------------------------------------------------------
// Canonical streaming RLE encoder; T is std::uint64_t, std::int64_t or std::string.
template <typename T>
class RleEncoder {
 public:
  void append(const T& v);
  void append_null();
  // Finishes the stream; leading-only nulls produce no bytes.
  Bytes finish();

 private:
  enum class State { kEmpty, kInitNulls, kNulls, kLone, kRun, kLiteral };
  void write_value(const T& v);
  void flush();
  State state_ = State::kEmpty;
  std::uint64_t count_ = 0;
  T value_{};
  Bytes literal_;  // encoded literal values before value_
  std::size_t literal_count_ = 0;
  Bytes out_;
};

// Default bound on the rows one column may expand to (runs cost no bytes, so a tiny input
// could otherwise ask for any amount of memory). Decoders return "TOO_LARGE" above it.
inline constexpr std::size_t kMaxColumnRows = std::size_t{1} << 23;

// Decodes a whole RLE column. Tolerates non-canonical runs; rejects malformed ones.
Result<std::vector<std::optional<std::uint64_t>>> decode_uleb_rle(
    ByteView data, std::size_t max_rows = kMaxColumnRows);
Result<std::vector<std::optional<std::int64_t>>> decode_sleb_rle(
    ByteView data, std::size_t max_rows = kMaxColumnRows);
Result<std::vector<std::optional<std::string>>> decode_string_rle(
    ByteView data, std::size_t max_rows = kMaxColumnRows);

// Delta column: RLE of sLEB differences between successive non-null values.
class DeltaEncoder {
 public:
  void append(std::int64_t v) {
    rle_.append(v - last_);
    last_ = v;
  }
  void append_null() { rle_.append_null(); }
  Bytes finish() { return rle_.finish(); }

 private:
  RleEncoder<std::int64_t> rle_;
  std::int64_t last_ = 0;
};
Result<std::vector<std::optional<std::int64_t>>> decode_delta(
    ByteView data, std::size_t max_rows = kMaxColumnRows);

// Boolean column: alternating run lengths starting with false.
class BoolEncoder {
 public:
  void append(bool v);
  Bytes finish();

 private:
  bool current_ = false;
  std::uint64_t count_ = 0;
  Bytes out_;
};
Result<std::vector<bool>> decode_bool(ByteView data, std::size_t max_rows = kMaxColumnRows);

}  // namespace peat::doc::enc
