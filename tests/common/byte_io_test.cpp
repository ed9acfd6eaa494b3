#include "peat/common/byte_io.hpp"

#include <gtest/gtest.h>

#include "peat/common/utf8.hpp"

namespace peat {
namespace {

TEST(ByteIo, BigAndLittleEndianRoundTrip) {
  BeWriter be;
  be.u16(0x0102);
  be.u32(0x03040506);
  be.u64(0x0708090a0b0c0d0eULL);
  EXPECT_EQ(to_hex(be.out()), "0102030405060708090a0b0c0d0e");
  LeWriter le;
  le.u16(0x0102);
  le.u32(0x03040506);
  EXPECT_EQ(to_hex(le.out()), "020106050403");

  BeReader r(be.out());
  EXPECT_EQ(r.u16(), 0x0102);
  EXPECT_EQ(r.u32(), 0x03040506u);
  EXPECT_EQ(r.u64(), 0x0708090a0b0c0d0eULL);
  EXPECT_TRUE(r.done());
}

TEST(ByteIo, ReaderNeverReadsPastTheEnd) {
  Bytes three{1, 2, 3};
  LeReader r(three);
  EXPECT_FALSE(r.u32().has_value());
  EXPECT_EQ(r.pos(), 0u);  // a failed read consumes nothing
  EXPECT_EQ(r.u16(), 0x0201);
  EXPECT_FALSE(r.take(2).has_value());
  EXPECT_FALSE((r.array<2>().has_value()));
  EXPECT_EQ(r.u8(), 3);
  EXPECT_FALSE(r.u8().has_value());
  EXPECT_TRUE(r.rest().empty());
}

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(std::string_view("")));
  EXPECT_TRUE(is_valid_utf8(std::string_view("plain ascii")));
  EXPECT_TRUE(is_valid_utf8(std::string_view("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80")));
}

TEST(Utf8, RejectsMalformedText) {
  const char* bad[] = {
      "\x80",              // lone continuation
      "\xc3",              // truncated
      "\xe2\x82",          // truncated
      "\xc0\xaf",          // overlong '/'
      "\xe0\x80\xaf",      // overlong
      "\xed\xa0\x80",      // surrogate U+D800
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xff",
      "a\xc3(",  // bad continuation
  };
  for (const char* s : bad) EXPECT_FALSE(is_valid_utf8(std::string_view(s))) << s;
}

}  // namespace
}  // namespace peat
