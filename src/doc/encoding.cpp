#include "doc/encoding.hpp"

namespace peat::doc::enc {

Error malformed(std::string message) {
  return make_error("MALFORMED", std::move(message));
}

namespace {
Error too_long() {
  return make_error("TOO_LARGE", "column has more rows than allowed");
}
}  // namespace

void put_uleb(Bytes& out, std::uint64_t v) {
  do {
    std::uint8_t b = v & 0x7f;
    v >>= 7;
    if (v != 0) b |= 0x80;
    out.push_back(b);
  } while (v != 0);
}

void put_sleb(Bytes& out, std::int64_t v) {
  while (true) {
    std::uint8_t b = static_cast<std::uint8_t>(v) & 0x7f;
    v >>= 7;  // arithmetic shift
    bool done = (v == 0 && (b & 0x40) == 0) || (v == -1 && (b & 0x40) != 0);
    if (!done) b |= 0x80;
    out.push_back(b);
    if (done) return;
  }
}

std::size_t uleb_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

Result<std::uint64_t> Reader::uleb() {
  std::uint64_t result = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos_ >= data_.size()) return malformed("truncated LEB128");
    std::uint8_t b = data_[pos_++];
    if (i == 9 && (b & 0xfe) != 0) return malformed("LEB128 overflows 64 bits");
    result |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (b == 0 && i > 0) return malformed("overlong LEB128");
      return result;
    }
  }
  return malformed("LEB128 longer than 10 bytes");
}

Result<std::int64_t> Reader::sleb() {
  std::uint64_t result = 0;
  std::uint8_t prev = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos_ >= data_.size()) return malformed("truncated LEB128");
    std::uint8_t b = data_[pos_++];
    if (i == 9) {
      if (b != 0x00 && b != 0x7f) return malformed("signed LEB128 overflows 64 bits");
      // The 10th byte only carries the sign (bit 63); anything else would be redundant.
      bool neg = b == 0x7f;
      bool bit62 = (prev & 0x40) != 0;
      if (neg == bit62) return malformed("overlong signed LEB128");
      if (neg) result |= std::uint64_t{1} << 63;
      return static_cast<std::int64_t>(result);
    }
    result |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (i > 0) {
        if (b == 0x00 && (prev & 0x40) == 0) return malformed("overlong signed LEB128");
        if (b == 0x7f && (prev & 0x40) != 0) return malformed("overlong signed LEB128");
      }
      if ((b & 0x40) != 0 && i < 9) result |= ~std::uint64_t{0} << (7 * (i + 1));
      return static_cast<std::int64_t>(result);
    }
    prev = b;
  }
  return malformed("signed LEB128 longer than 10 bytes");
}

Result<std::uint8_t> Reader::byte() {
  if (pos_ >= data_.size()) return malformed("truncated input");
  return data_[pos_++];
}

Result<ByteView> Reader::take(std::size_t n) {
  if (n > remaining()) return malformed("truncated input");
  ByteView v = data_.subspan(pos_, n);
  pos_ += n;
  return v;
}

std::size_t utf16_len(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xc0) != 0x80) n += (c >= 0xf0) ? 2 : 1;
  }
  return n;
}

// ---- RLE encoder ---------------------------------------------------------------------------

namespace {
void write_one(Bytes& out, std::uint64_t v) {
  put_uleb(out, v);
}
void write_one(Bytes& out, std::int64_t v) {
  put_sleb(out, v);
}
void write_one(Bytes& out, const std::string& v) {
  put_uleb(out, v.size());
  out.insert(out.end(), v.begin(), v.end());
}
}  // namespace

template <typename T>
void RleEncoder<T>::write_value(const T& v) {
  write_one(out_, v);
}

template <typename T>
void RleEncoder<T>::flush() {
  switch (state_) {
    case State::kEmpty:
    case State::kInitNulls:
      break;
    case State::kNulls:
      put_sleb(out_, 0);
      put_uleb(out_, count_);
      break;
    case State::kLone:
      put_sleb(out_, -1);
      write_value(value_);
      break;
    case State::kRun:
      put_sleb(out_, static_cast<std::int64_t>(count_));
      write_value(value_);
      break;
    case State::kLiteral:
      put_sleb(out_, -static_cast<std::int64_t>(literal_count_ + 1));
      out_.insert(out_.end(), literal_.begin(), literal_.end());
      write_value(value_);
      literal_.clear();
      literal_count_ = 0;
      break;
  }
  state_ = State::kEmpty;
  count_ = 0;
}

template <typename T>
void RleEncoder<T>::append(const T& v) {
  switch (state_) {
    case State::kEmpty:
      value_ = v;
      state_ = State::kLone;
      return;
    case State::kInitNulls:
    case State::kNulls:
      put_sleb(out_, 0);
      put_uleb(out_, count_);
      value_ = v;
      count_ = 0;
      state_ = State::kLone;
      return;
    case State::kLone:
      if (v == value_) {
        state_ = State::kRun;
        count_ = 2;
      } else {
        write_one(literal_, value_);
        literal_count_ = 1;
        value_ = v;
        state_ = State::kLiteral;
      }
      return;
    case State::kRun:
      if (v == value_) {
        ++count_;
      } else {
        flush();
        value_ = v;
        state_ = State::kLone;
      }
      return;
    case State::kLiteral:
      if (v == value_) {
        put_sleb(out_, -static_cast<std::int64_t>(literal_count_));
        out_.insert(out_.end(), literal_.begin(), literal_.end());
        literal_.clear();
        literal_count_ = 0;
        state_ = State::kRun;
        count_ = 2;
      } else {
        write_one(literal_, value_);
        ++literal_count_;
        value_ = v;
      }
      return;
  }
}

template <typename T>
void RleEncoder<T>::append_null() {
  switch (state_) {
    case State::kEmpty:
      state_ = State::kInitNulls;
      count_ = 1;
      return;
    case State::kInitNulls:
    case State::kNulls:
      ++count_;
      return;
    default:
      flush();
      state_ = State::kNulls;
      count_ = 1;
      return;
  }
}

template <typename T>
Bytes RleEncoder<T>::finish() {
  flush();
  Bytes out = std::move(out_);
  out_.clear();
  return out;
}

template class RleEncoder<std::uint64_t>;
template class RleEncoder<std::int64_t>;
template class RleEncoder<std::string>;

// ---- RLE decoders --------------------------------------------------------------------------

namespace {
Result<std::uint64_t> read_one(Reader& r, std::uint64_t*) {
  return r.uleb();
}
Result<std::int64_t> read_one(Reader& r, std::int64_t*) {
  return r.sleb();
}
Result<std::string> read_one(Reader& r, std::string*) {
  auto len = r.uleb();
  if (!len) return len.error();
  auto bytes = r.take(*len);
  if (!bytes) return bytes.error();
  std::string s(as_chars(*bytes));
  if (!valid_utf8(s)) return make_error("INVALID_UTF8", "string column holds invalid UTF-8");
  return s;
}

template <typename T>
Result<std::vector<std::optional<T>>> decode_rle(ByteView data, std::uint64_t max_rows) {
  std::vector<std::optional<T>> out;
  Reader r(data);
  while (!r.done()) {
    auto n = r.sleb();
    if (!n) return n.error();
    if (*n > 0) {
      auto v = read_one(r, static_cast<T*>(nullptr));
      if (!v) return v.error();
      if (out.size() + static_cast<std::uint64_t>(*n) > max_rows) return too_long();
      out.insert(out.end(), static_cast<std::size_t>(*n), std::optional<T>(*v));
    } else if (*n < 0) {
      std::uint64_t count = static_cast<std::uint64_t>(-(*n + 1)) + 1;
      if (out.size() + count > max_rows) return too_long();
      for (std::uint64_t i = 0; i < count; ++i) {
        auto v = read_one(r, static_cast<T*>(nullptr));
        if (!v) return v.error();
        out.emplace_back(std::move(*v));
      }
    } else {
      auto count = r.uleb();
      if (!count) return count.error();
      if (*count == 0) return malformed("empty null run");
      if (out.size() + *count > max_rows) return too_long();
      out.insert(out.end(), static_cast<std::size_t>(*count), std::nullopt);
    }
  }
  return out;
}
}  // namespace

Result<std::vector<std::optional<std::uint64_t>>> decode_uleb_rle(ByteView data,
                                                                  std::size_t max_rows) {
  return decode_rle<std::uint64_t>(data, max_rows);
}
Result<std::vector<std::optional<std::int64_t>>> decode_sleb_rle(ByteView data,
                                                                 std::size_t max_rows) {
  return decode_rle<std::int64_t>(data, max_rows);
}
Result<std::vector<std::optional<std::string>>> decode_string_rle(ByteView data,
                                                                  std::size_t max_rows) {
  return decode_rle<std::string>(data, max_rows);
}

Result<std::vector<std::optional<std::int64_t>>> decode_delta(ByteView data, std::size_t max_rows) {
  auto raw = decode_sleb_rle(data, max_rows);
  if (!raw) return raw.error();
  std::int64_t acc = 0;
  for (auto& v : *raw) {
    if (v) {
      acc = static_cast<std::int64_t>(static_cast<std::uint64_t>(acc) +
                                      static_cast<std::uint64_t>(*v));
      *v = acc;
    }
  }
  return raw;
}

// ---- boolean -------------------------------------------------------------------------------

void BoolEncoder::append(bool v) {
  if (v == current_) {
    ++count_;
  } else {
    put_uleb(out_, count_);
    current_ = v;
    count_ = 1;
  }
}

Bytes BoolEncoder::finish() {
  if (count_ > 0) put_uleb(out_, count_);
  Bytes out = std::move(out_);
  out_.clear();
  current_ = false;
  count_ = 0;
  return out;
}

Result<std::vector<bool>> decode_bool(ByteView data, std::size_t max_rows) {
  std::vector<bool> out;
  Reader r(data);
  bool v = false;
  while (!r.done()) {
    auto n = r.uleb();
    if (!n) return n.error();
    if (out.size() + *n > max_rows) return too_long();
    out.insert(out.end(), static_cast<std::size_t>(*n), v);
    v = !v;
  }
  return out;
}

}  // namespace peat::doc::enc
