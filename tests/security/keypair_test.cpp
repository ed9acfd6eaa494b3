#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "peat/common/random.hpp"
#include "peat/security/device_id.hpp"
#include "peat/security/keypair.hpp"
#include "test_util.hpp"

namespace peat::security {
namespace {

using test::hex;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "peat-sec-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct Rfc8032Case {
  const char* secret;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 section 7.1, TEST 1-3.
const Rfc8032Case kRfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
     "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
     "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760"
     "984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(DeviceKeypair, Rfc8032Vectors) {
  for (const auto& c : kRfc8032) {
    auto kp = DeviceKeypair::from_secret_bytes(hex(c.secret));
    ASSERT_TRUE(kp.ok());
    EXPECT_EQ(kp->public_key().to_hex(), c.public_key);
    Bytes msg = hex(c.message);
    auto sig = kp->sign(msg);
    EXPECT_EQ(to_hex(sig), c.signature);
    EXPECT_TRUE(kp->verify(msg, sig).ok());
    EXPECT_TRUE(verify_signature(hex(c.public_key), msg, hex(c.signature)).ok());
  }
}

TEST(DeviceKeypair, SpecVectorSeedOfOnes) {
  auto kp = DeviceKeypair::from_secret_bytes(Bytes(32, 0x01));
  ASSERT_TRUE(kp.ok());
  EXPECT_EQ(kp->public_key().to_hex(),
            "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c");
  EXPECT_EQ(kp->device_id().to_hex(), "34750f98bd59fcfc946da45aaabe933b");
}

TEST(DeviceKeypair, FromSeedSpecVectorAndProperties) {
  auto kp = DeviceKeypair::from_seed(as_bytes("my-kubernetes-secret"), "pod-alpha");
  EXPECT_EQ(to_hex(kp.secret_bytes().view()),
            "1f7d2ad7980936bbdd212d3afa5a4c27fd49b43bf0fc5dfc47503d582e528055");
  EXPECT_EQ(kp.public_key().to_hex(),
            "32ea9640097e5cc7930a7037fec629ced96ca237d4e5d02b5f9d6844af8be3fa");
  auto again = DeviceKeypair::from_seed(as_bytes("my-kubernetes-secret"), "pod-alpha");
  EXPECT_EQ(kp.public_key(), again.public_key());
  EXPECT_NE(kp.public_key(),
            DeviceKeypair::from_seed(as_bytes("my-kubernetes-secret"), "pod-beta").public_key());
  EXPECT_NE(kp.public_key(),
            DeviceKeypair::from_seed(as_bytes("other-secret"), "pod-alpha").public_key());
  auto empty = DeviceKeypair::from_seed({}, "ctx");  // empty seed allowed
  EXPECT_TRUE(empty.verify(as_bytes("m"), empty.sign(as_bytes("m"))).ok());
}

TEST(DeviceKeypair, GenerateSignVerify) {
  auto a = DeviceKeypair::generate();
  auto b = DeviceKeypair::generate();
  EXPECT_NE(a.public_key(), b.public_key());
  auto sig = a.sign(as_bytes("message"));
  EXPECT_TRUE(a.verify(as_bytes("message"), sig).ok());
  auto wrong_msg = a.verify(as_bytes("other"), sig);
  ASSERT_FALSE(wrong_msg.ok());
  EXPECT_EQ(wrong_msg.error().code, "INVALID_SIGNATURE");
  EXPECT_FALSE(b.verify(as_bytes("message"), sig).ok());
}

TEST(DeviceKeypair, SeededGenerateIsDeterministic) {
  SeededRng r1(9), r2(9);
  EXPECT_EQ(DeviceKeypair::generate(r1).public_key(), DeviceKeypair::generate(r2).public_key());
}

TEST(DeviceKeypair, WrongLengthsAreErrors) {
  auto kp = DeviceKeypair::from_secret_bytes(Bytes(16));
  ASSERT_FALSE(kp.ok());
  EXPECT_EQ(kp.error().code, "KEYPAIR_ERROR");
  EXPECT_EQ(kp.error().message, "expected 32 bytes, got 16");
  EXPECT_EQ(signature_from_bytes(Bytes(32)).error().code, "INVALID_SIGNATURE");
  EXPECT_TRUE(signature_from_bytes(Bytes(64)).ok());
  EXPECT_EQ(PublicKey::from_bytes(Bytes(16)).error().code, "INVALID_PUBLIC_KEY");
  // Not a curve point / small order.
  EXPECT_EQ(PublicKey::from_bytes(Bytes(32, 0)).error().code, "INVALID_PUBLIC_KEY");
  Bytes not_on_curve(32, 0xff);
  EXPECT_FALSE(PublicKey::from_bytes(not_on_curve).ok());
  EXPECT_FALSE(PublicKey::from_hex("zz").ok());
  EXPECT_EQ(verify_signature(Bytes(31), {}, Bytes(64)).error().code, "INVALID_PUBLIC_KEY");
}

TEST(DeviceKeypair, PrintingNeverShowsKeyBytes) {
  auto kp = DeviceKeypair::from_secret_bytes(Bytes(32, 0xab));
  ASSERT_TRUE(kp.ok());
  std::ostringstream os;
  os << *kp;
  EXPECT_NE(os.str().find("REDACTED"), std::string::npos);
  EXPECT_EQ(os.str().find("abab"), std::string::npos);
  EXPECT_EQ(os.str().find(kp->public_key().to_hex()), std::string::npos);
  EXPECT_NE(os.str().find(kp->device_id().to_hex()), std::string::npos);
}

TEST(DeviceKeypair, SaveLoadRoundTripWith0600) {
  TempDir dir;
  auto path = dir.path() / "node.key";
  auto kp = DeviceKeypair::generate();
  ASSERT_TRUE(kp.save_to_file(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto loaded = DeviceKeypair::load_from_file(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ(loaded->public_key(), kp.public_key());
  // Overwrite atomically; no temporary files left behind.
  auto kp2 = DeviceKeypair::generate();
  ASSERT_TRUE(kp2.save_to_file(path).ok());
  EXPECT_EQ(DeviceKeypair::load_from_file(path)->public_key(), kp2.public_key());
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);
}

TEST(DeviceKeypair, LoadRejectsBadFiles) {
  TempDir dir;
  auto missing = DeviceKeypair::load_from_file(dir.path() / "none.key");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "IO_ERROR");

  auto short_path = dir.path() / "short.key";
  { std::ofstream(short_path, std::ios::binary) << std::string(10, 'x'); }
  ::chmod(short_path.c_str(), 0600);
  auto wrong_len = DeviceKeypair::load_from_file(short_path);
  ASSERT_FALSE(wrong_len.ok());
  EXPECT_EQ(wrong_len.error().code, "KEYPAIR_ERROR");

  auto open_path = dir.path() / "open.key";
  ASSERT_TRUE(DeviceKeypair::generate().save_to_file(open_path).ok());
  ::chmod(open_path.c_str(), 0644);
  auto too_open = DeviceKeypair::load_from_file(open_path);
  ASSERT_FALSE(too_open.ok());
  EXPECT_EQ(too_open.error().code, "KEYPAIR_ERROR");
  EXPECT_NE(too_open.error().message.find("chmod 600"), std::string::npos);

  auto save_fail = DeviceKeypair::generate().save_to_file(dir.path() / "no-such-dir" / "k");
  ASSERT_FALSE(save_fail.ok());
  EXPECT_EQ(save_fail.error().code, "IO_ERROR");

  auto dir_as_key = DeviceKeypair::load_from_file(dir.path());
  EXPECT_FALSE(dir_as_key.ok());
}

TEST(DeviceId, DerivationAndHexRoundTrip) {
  auto kp = DeviceKeypair::generate();
  auto id = kp.device_id();
  EXPECT_EQ(id, DeviceId::from_public_key(kp.public_key()));
  EXPECT_EQ(id.to_hex().size(), 32u);
  auto parsed = DeviceId::from_hex(id.to_hex());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, id);
  auto from_bytes = DeviceId::from_public_key_bytes(kp.public_key().view());
  ASSERT_TRUE(from_bytes.ok());
  EXPECT_EQ(*from_bytes, id);
  std::ostringstream os;
  os << DeviceId(DeviceId::Raw{0xab, 0xab});
  EXPECT_EQ(os.str().substr(0, 4), "abab");
  std::hash<DeviceId> h;
  EXPECT_EQ(h(id), h(*parsed));
}

TEST(DeviceId, StrictParsing) {
  for (std::string_view bad :
       {"abc", "00112233", "zz", "", "0011223344556677889900112233445566",
        "g0112233445566778899aabbccddeeff", "00112233445566778899aabbccddeef\xc3"}) {
    auto r = DeviceId::from_hex(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "INVALID_DEVICE_ID");
  }
  auto upper = DeviceId::from_hex("00112233445566778899AABBCCDDEEFF");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(upper->to_hex(), "00112233445566778899aabbccddeeff");
  EXPECT_EQ(DeviceId::from_public_key_bytes(Bytes(31)).error().code, "INVALID_PUBLIC_KEY");
}

}  // namespace
}  // namespace peat::security
