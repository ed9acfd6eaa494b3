// DeviceId: the first 16 bytes of SHA-256(Ed25519 public key); text form is 32 lowercase hex.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include "peat/common/bytes.hpp"

namespace peat::security {

class PublicKey;

class DeviceId {
 public:
  static constexpr std::size_t kSize = 16;
  using Raw = std::array<std::uint8_t, kSize>;

  explicit DeviceId(const Raw& raw) : raw_(raw) {}
  static DeviceId from_public_key(const PublicKey& key);
  // 32 bytes that are a valid Ed25519 point, else INVALID_PUBLIC_KEY.
  static Result<DeviceId> from_public_key_bytes(ByteView key);
  // Exactly 32 ASCII hex digits (either case), else INVALID_DEVICE_ID. Never throws.
  static Result<DeviceId> from_hex(std::string_view text);

  const Raw& bytes() const { return raw_; }
  std::string to_hex() const;

  bool operator==(const DeviceId&) const = default;
  auto operator<=>(const DeviceId&) const = default;

 private:
  Raw raw_;
};

std::ostream& operator<<(std::ostream& os, const DeviceId& id);

}  // namespace peat::security

template <>
struct std::hash<peat::security::DeviceId> {
  std::size_t operator()(const peat::security::DeviceId& id) const noexcept {
    std::size_t h = 0;
    for (std::size_t i = 0; i < sizeof(std::size_t); ++i) h = h << 8 | id.bytes()[i];
    return h;
  }
};
