// Helpers shared by the security tests.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "peat/common/bytes.hpp"
#include "peat/security/secret.hpp"

namespace peat::security::test {

inline Bytes hex(std::string_view text) {
  auto r = from_hex(text);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() ? *r : Bytes{};
}

inline SecretKey key_of(std::uint8_t fill) {
  SecretKey k;
  for (auto& b : k.span()) b = fill;
  return k;
}

// A fixed wall clock for certificates: 2023-11-14T22:13:20Z.
inline constexpr std::uint64_t kNow = 1'700'000'000'000ULL;

}  // namespace peat::security::test
