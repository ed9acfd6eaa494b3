#include "peat/common/sha256.hpp"

#include <gtest/gtest.h>

namespace peat {
namespace {

TEST(Sha256, FipsVectors) {
  EXPECT_EQ(to_hex(Sha256::digest(as_bytes(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(Sha256::digest(as_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, IncrementalEqualsOneShotAndResets) {
  std::string msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  Sha256 h;
  h.update(as_bytes(msg.substr(0, 10)));
  h.update(as_bytes(msg.substr(10)));
  auto first = h.finish();
  EXPECT_EQ(to_hex(first), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  h.update(as_bytes(msg));
  EXPECT_EQ(h.finish(), first);
}

}  // namespace
}  // namespace peat
