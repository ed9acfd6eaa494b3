// Secret material: fixed-size and variable-size byte holders that are wiped (sodium_memzero) when
// destroyed or overwritten, and compared in constant time. They never print their contents.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "peat/common/bytes.hpp"

namespace peat::security {

// Constant-time equality (sodium_memcmp). Different lengths compare unequal; the length itself
// is not treated as secret.
bool constant_time_equal(ByteView a, ByteView b);
// Overwrites memory in a way the compiler may not elide (sodium_memzero).
void secure_wipe(std::span<std::uint8_t> data);

template <std::size_t N>
class SecretArray {
 public:
  static constexpr std::size_t kSize = N;

  SecretArray() { bytes_.fill(0); }
  // Copies exactly N bytes; nullopt when `data` has another length.
  static std::optional<SecretArray> from(ByteView data) {
    if (data.size() != N) return std::nullopt;
    SecretArray s;
    std::copy(data.begin(), data.end(), s.bytes_.begin());
    return s;
  }
  SecretArray(const SecretArray&) = default;
  SecretArray& operator=(const SecretArray& other) {
    if (this != &other) bytes_ = other.bytes_;
    return *this;
  }
  ~SecretArray() { secure_wipe(bytes_); }

  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  static constexpr std::size_t size() { return N; }
  ByteView view() const { return {bytes_.data(), N}; }
  std::span<std::uint8_t> span() { return {bytes_.data(), N}; }

  friend bool operator==(const SecretArray& a, const SecretArray& b) {
    return constant_time_equal(a.view(), b.view());
  }

 private:
  std::array<std::uint8_t, N> bytes_;
};

using SecretKey = SecretArray<32>;

// A variable-length secret (e.g. an encoded genesis record, a formation secret of any length).
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(ByteView data) : bytes_(data.begin(), data.end()) {}
  explicit SecretBytes(std::size_t size) : bytes_(size, 0) {}
  // Takes ownership of `data` (the caller's vector is left empty, not copied).
  static SecretBytes adopt(Bytes&& data) {
    SecretBytes s;
    s.bytes_ = std::move(data);
    return s;
  }
  SecretBytes(const SecretBytes&) = default;
  SecretBytes(SecretBytes&&) noexcept = default;
  SecretBytes& operator=(const SecretBytes& other) {
    if (this != &other) {
      wipe();
      bytes_ = other.bytes_;
    }
    return *this;
  }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      wipe();
      bytes_ = std::move(other.bytes_);
    }
    return *this;
  }
  ~SecretBytes() { wipe(); }

  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  ByteView view() const { return {bytes_.data(), bytes_.size()}; }
  std::span<std::uint8_t> span() { return {bytes_.data(), bytes_.size()}; }

  friend bool operator==(const SecretBytes& a, const SecretBytes& b) {
    return constant_time_equal(a.view(), b.view());
  }

 private:
  void wipe() { secure_wipe({bytes_.data(), bytes_.size()}); }
  Bytes bytes_;
};

}  // namespace peat::security
