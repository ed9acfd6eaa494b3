#include "peat/broker/multipart.hpp"

#include <gtest/gtest.h>

namespace peat::broker {
namespace {

constexpr const char* kType = "multipart/form-data; boundary=XyZ";

TEST(Multipart, ParsesFieldsAndFiles) {
  static constexpr char kBody[] =
      "--XyZ\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n1.2.3\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"firmware\"; filename=\"fw.bin\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n\x00\x01\r\n\x02\r\n--XyZ--\r\n";
  std::string body(kBody, sizeof kBody - 1);  // keeps the NUL byte
  auto parts = parse_multipart(kType, body);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_EQ(parts->at("version").content, "1.2.3");
  EXPECT_EQ(parts->at("firmware").filename, "fw.bin");
  EXPECT_EQ(parts->at("firmware").content, std::string("\x00\x01\r\n\x02", 5));
}

TEST(Multipart, BoundaryMayBeQuotedAndCaseOfTypeIgnored) {
  auto parts =
      parse_multipart("Multipart/Form-Data; boundary=\"a b\"",
                      "--a b\r\ncontent-disposition: form-data; name=x\r\n\r\nv\r\n--a b--");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_EQ(parts->at("x").content, "v");
}

TEST(Multipart, RejectsMalformedBodies) {
  const char* bad_bodies[] = {
      "",
      "--XyZ",
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end",
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"",
      "--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--",
      "--XyZxx",
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--",
  };
  for (const char* body : bad_bodies) {
    auto r = parse_multipart(kType, body);
    EXPECT_FALSE(r.ok()) << body;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, "BAD_MULTIPART");
    }
  }
  EXPECT_FALSE(parse_multipart("application/json", "{}").ok());
  EXPECT_FALSE(parse_multipart("multipart/form-data", "--\r\n").ok());
}

}  // namespace
}  // namespace peat::broker
