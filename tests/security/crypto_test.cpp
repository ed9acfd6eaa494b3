#include <gtest/gtest.h>

#include "peat/common/random.hpp"
#include "peat/security/aead.hpp"
#include "peat/security/hkdf.hpp"
#include "peat/security/os_rng.hpp"
#include "peat/security/secret.hpp"
#include "peat/security/x25519.hpp"
#include "test_util.hpp"

namespace peat::security {
namespace {

using test::hex;
using test::key_of;

Bytes range(int from, int to) {
  Bytes b;
  for (int i = from; i < to; ++i) b.push_back(static_cast<std::uint8_t>(i));
  return b;
}

// RFC 5869 appendix A, test cases 1-3.
TEST(Hkdf, Rfc5869Case1) {
  Bytes ikm(22, 0x0b);
  Bytes salt = range(0x00, 0x0d);
  Bytes info = range(0xf0, 0xfa);
  EXPECT_EQ(to_hex(hkdf_extract(salt, ikm).view()),
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
  auto okm = hkdf(salt, ikm, info, 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(to_hex(okm->view()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(Hkdf, Rfc5869Case2) {
  Bytes ikm = range(0x00, 0x50);
  Bytes salt = range(0x60, 0xb0);
  Bytes info = range(0xb0, 0x100);
  EXPECT_EQ(to_hex(hkdf_extract(salt, ikm).view()),
            "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244");
  auto okm = hkdf(salt, ikm, info, 82);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(to_hex(okm->view()),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST(Hkdf, Rfc5869Case3EmptySaltAndInfo) {
  Bytes ikm(22, 0x0b);
  EXPECT_EQ(to_hex(hkdf_extract({}, ikm).view()),
            "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
  auto okm = hkdf({}, ikm, {}, 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(to_hex(okm->view()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(Hkdf, EmptySaltEqualsZeroSalt) {
  Bytes zeros(32, 0);
  Bytes ikm = to_bytes("input");
  EXPECT_EQ(hkdf32({}, ikm, as_bytes("x")), hkdf32(zeros, ikm, as_bytes("x")));
}

TEST(Hkdf, Hkdf32MatchesGeneralForm) {
  Bytes ikm = to_bytes("ikm");
  auto general = hkdf(as_bytes("salt"), ikm, as_bytes("info"), 32);
  ASSERT_TRUE(general.ok());
  EXPECT_TRUE(
      constant_time_equal(general->view(), hkdf32(as_bytes("salt"), ikm, as_bytes("info")).view()));
}

TEST(Hkdf, OutputLimits) {
  Bytes ikm(32, 1);
  auto max = hkdf({}, ikm, {}, kHkdfMaxOutput);
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->size(), kHkdfMaxOutput);
  auto over = hkdf({}, ikm, {}, kHkdfMaxOutput + 1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, "INTERNAL_ERROR");
  auto zero = hkdf({}, ikm, {}, 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->empty());
}

TEST(Hmac, Rfc4231Case2) {
  auto mac = hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"));
  EXPECT_EQ(to_hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Hmac, PartsAreConcatenated) {
  auto whole = hmac_sha256(as_bytes("k"), as_bytes("hello world"));
  auto parts = hmac_sha256(as_bytes("k"), {as_bytes("hello"), as_bytes(" "), as_bytes("world")});
  EXPECT_EQ(whole, parts);
}

// RFC 7748 section 6.1.
TEST(X25519, Rfc7748Vector) {
  auto alice = X25519Keypair::from_secret_bytes(
      hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  auto bob = X25519Keypair::from_secret_bytes(
      hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  ASSERT_TRUE(alice.ok() && bob.ok());
  EXPECT_EQ(to_hex(alice->public_key()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(to_hex(bob->public_key()),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  auto s1 = alice->agree(bob->public_key());
  auto s2 = bob->agree(alice->public_key());
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(to_hex(s1->view()), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_TRUE(*s1 == *s2);
}

TEST(X25519, RejectsWrongLengthsAndLowOrderPoints) {
  SeededRng rng(1);
  auto kp = X25519Keypair::generate(rng);
  EXPECT_EQ(X25519Keypair::from_secret_bytes(Bytes(31)).error().code, "KEYPAIR_ERROR");
  EXPECT_EQ(kp.agree(Bytes(31)).error().code, "KEY_EXCHANGE_ERROR");
  // The all-zero point and the point of order 1 give an all-zero shared secret.
  EXPECT_EQ(kp.agree(Bytes(32, 0)).error().code, "KEY_EXCHANGE_ERROR");
  Bytes one(32, 0);
  one[0] = 1;
  EXPECT_EQ(kp.agree(one).error().code, "KEY_EXCHANGE_ERROR");
}

TEST(X25519, EphemeralAgreementMatchesStaticSide) {
  OsRng rng;
  auto server = X25519Keypair::generate(rng);
  auto eph = ephemeral_agree(server.public_key(), rng);
  ASSERT_TRUE(eph.ok());
  auto server_side = server.agree(eph->ephemeral_public);
  ASSERT_TRUE(server_side.ok());
  EXPECT_TRUE(*server_side == eph->shared_secret);
  auto bad = ephemeral_agree(Bytes(32, 0), rng);
  EXPECT_FALSE(bad.ok());
}

// RFC 8439 section 2.8.2.
TEST(Aead, Rfc8439Vector) {
  auto key = *SecretKey::from(range(0x80, 0xa0));
  AeadNonce nonce;
  Bytes n = hex("070000004041424344454647");
  std::copy(n.begin(), n.end(), nonce.begin());
  Bytes aad = hex("50515253c0c1c2c3c4c5c6c7");
  std::string_view pt =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.";
  Bytes ct = aead_seal(key, nonce, as_bytes(pt), aad);
  EXPECT_EQ(to_hex(ct),
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca96712"
            "82fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58"
            "fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
            "1ae10b594f09e26a7e902ecbd0600691");
  auto back = aead_open(key, nonce, ct, aad);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(as_chars(*back), pt);
}

TEST(Aead, TamperingWrongKeyNonceOrAadFails) {
  SecretKey key = key_of(7);
  AeadNonce nonce{};
  Bytes ct = aead_seal(key, nonce, as_bytes("secret message"), as_bytes("aad"));
  EXPECT_TRUE(aead_open(key, nonce, ct, as_bytes("aad")).ok());
  EXPECT_EQ(aead_open(key_of(8), nonce, ct, as_bytes("aad")).error().code, "DECRYPTION_ERROR");
  EXPECT_FALSE(aead_open(key, nonce, ct, as_bytes("other")).ok());
  AeadNonce other = nonce;
  other[0] = 1;
  EXPECT_FALSE(aead_open(key, other, ct, as_bytes("aad")).ok());
  for (std::size_t i = 0; i < ct.size(); ++i) {
    Bytes bad = ct;
    bad[i] ^= 0x01;
    EXPECT_FALSE(aead_open(key, nonce, bad, as_bytes("aad")).ok()) << i;
  }
  EXPECT_FALSE(aead_open(key, nonce, Bytes(15), {}).ok());
}

TEST(Aead, EmptyPlaintextHasOnlyTag) {
  SecretKey key = key_of(1);
  AeadNonce nonce{};
  Bytes ct = aead_seal(key, nonce, {});
  EXPECT_EQ(ct.size(), kAeadTagSize);
  auto pt = aead_open(key, nonce, ct);
  ASSERT_TRUE(pt.ok());
  EXPECT_TRUE(pt->empty());
}

TEST(Aead, NonceCounterIsSequentialLittleEndian) {
  NonceCounter counter;
  auto n0 = counter.next();
  auto n1 = counter.next();
  ASSERT_TRUE(n0.ok() && n1.ok());
  EXPECT_EQ(to_hex(*n0), "000000000000000000000000");
  EXPECT_EQ(to_hex(*n1), "010000000000000000000000");
  EXPECT_EQ(counter.used(), 2u);
}

TEST(EncryptedData, RoundTripAndRandomNonces) {
  SeededRng rng(42);
  auto key = SymmetricKey::generate(rng);
  auto a = key.encrypt(as_bytes("hello"), rng);
  auto b = key.encrypt(as_bytes("hello"), rng);
  EXPECT_NE(a.nonce, b.nonce);
  EXPECT_EQ(a.ciphertext.size(), 5 + kAeadTagSize);
  Bytes wire = a.to_bytes();
  EXPECT_EQ(wire.size(), 12 + 5 + 16);
  EXPECT_TRUE(std::equal(a.nonce.begin(), a.nonce.end(), wire.begin()));
  auto parsed = EncryptedData::from_bytes(wire);
  ASSERT_TRUE(parsed.ok());
  auto pt = key.decrypt(*parsed);
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(as_chars(*pt), "hello");
  auto other = SymmetricKey::generate(rng);
  EXPECT_EQ(other.decrypt(*parsed).error().code, "DECRYPTION_ERROR");
}

TEST(EncryptedData, TooShortIsRejected) {
  for (std::size_t n : {0u, 11u, 12u, 27u}) {
    auto r = EncryptedData::from_bytes(Bytes(n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().code, "SERIALIZATION_ERROR");
    EXPECT_NE(r.error().message.find("too short"), std::string::npos);
  }
  EXPECT_TRUE(EncryptedData::from_bytes(Bytes(28)).ok());
}

TEST(SymmetricKey, PeerKeyDerivationIsSharedBySides) {
  SeededRng rng(3);
  auto a = X25519Keypair::generate(rng);
  auto b = X25519Keypair::generate(rng);
  auto ka = SymmetricKey::derive_for_peer(*a.agree(b.public_key()));
  auto kb = SymmetricKey::derive_for_peer(*b.agree(a.public_key()));
  EXPECT_TRUE(ka.secret() == kb.secret());
  auto msg = ka.encrypt(as_bytes("over the channel"), rng);
  auto pt = kb.decrypt(msg);
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(as_chars(*pt), "over the channel");
  // Derived with HKDF(none, shared, "peat-protocol-v1-peer").
  EXPECT_TRUE(ka.secret() ==
              hkdf32({}, a.agree(b.public_key())->view(), as_bytes("peat-protocol-v1-peer")));
}

TEST(Secret, ConstantTimeEqualAndWipe) {
  EXPECT_TRUE(constant_time_equal(as_bytes("abc"), as_bytes("abc")));
  EXPECT_FALSE(constant_time_equal(as_bytes("abc"), as_bytes("abd")));
  EXPECT_FALSE(constant_time_equal(as_bytes("abc"), as_bytes("abcd")));
  EXPECT_TRUE(constant_time_equal({}, {}));
  Bytes buf = {1, 2, 3};
  secure_wipe(buf);
  EXPECT_EQ(buf, (Bytes{0, 0, 0}));
  EXPECT_FALSE(SecretKey::from(Bytes(31)).has_value());
  EXPECT_TRUE(key_of(1) == key_of(1));
  EXPECT_FALSE(key_of(1) == key_of(2));
  SecretBytes s(as_bytes("xyz"));
  SecretBytes copy = s;
  EXPECT_TRUE(copy == s);
  SecretBytes moved = std::move(copy);
  EXPECT_EQ(moved.size(), 3u);
}

TEST(OsRng, FillsAndDiffers) {
  OsRng rng;
  Bytes a(32), b(32);
  rng.fill(a);
  rng.fill(b);
  EXPECT_NE(a, b);
  EXPECT_NE(a, Bytes(32, 0));
  EXPECT_LT(rng.uniform(10), 10u);
  rng.fill({});  // empty is fine
}

}  // namespace
}  // namespace peat::security
