#include "peat/common/bytes.hpp"

#include <gtest/gtest.h>

namespace peat {
namespace {

TEST(Hex, RoundTripsAndAcceptsUppercase) {
  Bytes data{0x00, 0x7f, 0xab, 0xff};
  EXPECT_EQ(to_hex(data), "007fabff");
  auto back = from_hex("007FABff");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, data);
}

TEST(Hex, RejectsOddLengthAndBadCharacters) {
  EXPECT_EQ(from_hex("abc").error().code, "INVALID_HEX");
  EXPECT_EQ(from_hex("zz").error().code, "INVALID_HEX");
  EXPECT_EQ(from_hex("0g").error().code, "INVALID_HEX");
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(to_base64(as_bytes(plain)), encoded);
    auto decoded = from_base64(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(as_chars(*decoded), plain);
  }
}

TEST(Base64, RejectsMalformedInput) {
  EXPECT_FALSE(from_base64("Zg=").ok());   // length
  EXPECT_FALSE(from_base64("Z===").ok());  // too much padding
  EXPECT_FALSE(from_base64("Zg=a").ok());  // data after padding
  EXPECT_FALSE(from_base64("Zm9v!A==").ok());
  EXPECT_FALSE(from_base64("Zg==Zg==").ok());  // padding before the end
}

}  // namespace
}  // namespace peat
