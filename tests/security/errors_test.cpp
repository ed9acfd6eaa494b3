#include <gtest/gtest.h>

#include <set>

#include "peat/security/errors.hpp"

namespace peat::security {
namespace {

TEST(SecurityErrors, AllCodesDistinctUpperSnake) {
  std::set<std::string_view> seen;
  for (auto code : kAllSecurityErrorCodes) {
    EXPECT_TRUE(seen.insert(code).second) << code;
    for (char c : code) EXPECT_TRUE((c >= 'A' && c <= 'Z') || c == '_') << code;
  }
  EXPECT_EQ(seen.size(), 34u);
}

TEST(SecurityErrors, OnlyChallengeExpiredIsRecoverable) {
  for (auto code : kAllSecurityErrorCodes) {
    EXPECT_EQ(is_recoverable(security_error(code, "x")), code == errc::kChallengeExpired) << code;
  }
}

TEST(SecurityErrors, DisplayStrings) {
  EXPECT_EQ(nonce_mismatch("aaa", "bbb").message, "nonce mismatch: expected aaa, got bbb");
  EXPECT_EQ(nonce_mismatch("aaa", "bbb").code, "NONCE_MISMATCH");
  EXPECT_EQ(key_generation_mismatch(3, 5).message, "key generation mismatch: expected 3, got 5");
  EXPECT_EQ(no_group_key("cell-1").message, "no group key for cell: cell-1");
  EXPECT_EQ(no_group_key("cell-1").to_string(), "NO_GROUP_KEY: no group key for cell: cell-1");
}

TEST(SecurityErrors, Constants) {
  EXPECT_EQ(kChallengeTimeoutSecs, 30u);
  EXPECT_EQ(kChallengeNonceSize, 32u);
  EXPECT_EQ(kPublicKeySize, 32u);
  EXPECT_EQ(kSignatureSize, 64u);
}

}  // namespace
}  // namespace peat::security
