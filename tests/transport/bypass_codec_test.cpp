#include "peat/transport/bypass_codec.hpp"

#include <gtest/gtest.h>

namespace peat::transport::bypass {
namespace {

constexpr UnixMillis kNow = 1'700'000'000'000ULL;

TEST(BypassCodec, CollectionHashVectorsFromRust) {
  EXPECT_EQ(collection_hash("test"), 0x4DFE836Eu);
  EXPECT_EQ(collection_hash("position_updates"), 0xF8A6B678u);
  EXPECT_EQ(collection_hash("telemetry"), 0xD826500Du);
  EXPECT_EQ(collection_hash("positions"), 0xA633CC2Cu);
}

TEST(BypassCodec, HeaderBytesMatchTheSpecExample) {
  Bytes out;
  encode_header({collection_hash("test"), 1000, 0, 42}, out);
  EXPECT_EQ(to_hex(out), "454348454dfe836e03e8002a");
  auto h = decode_header(out);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, (Header{0x4DFE836E, 1000, 0, 42}));
  EXPECT_EQ(clamp_ttl(100000), 65535);
  EXPECT_EQ(clamp_ttl(5000), 5000);
}

TEST(BypassCodec, HeaderRejectsShortAndBadMagic) {
  Bytes out;
  encode_header({1, 2, 0, 3}, out);
  EXPECT_EQ(decode_header(ByteView(out).first(11)).error().code, "INVALID_BYPASS_HEADER");
  out[0] = 'P';
  EXPECT_EQ(decode_header(out).error().code, "INVALID_BYPASS_HEADER");
}

TEST(BypassCodec, PlainEncoderIsRustCompatible) {
  Encoder enc(Mode::kPlain, {}, 1);
  for (int i = 0; i < 300; ++i) {
    auto p = enc.encode(collection_hash("test"), 1000, as_bytes("hi"), kNow);
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(p->size(), 14u);
    EXPECT_EQ((*p)[11], static_cast<std::uint8_t>(i));  // wrapping u8 from 0
    EXPECT_EQ((*p)[10], 0);
  }
  Decoder dec({});
  auto p = Encoder(Mode::kPlain, {}, 1).encode(7, 9, as_bytes("payload"), kNow);
  auto m = dec.decode("127.0.0.1", *p, kNow);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(as_chars(m->payload), "payload");
  EXPECT_FALSE(m->sender.has_value());
  EXPECT_EQ(dec.metrics().messages_received, 1u);
  EXPECT_EQ(dec.metrics().bytes_received, 19u);
}

struct Keys {
  Keys() {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(1);
    std::tie(pk, sk) = keypair_from_seed(seed);
    id.fill(0x34);
    key.fill(0x42);
  }
  SenderCredentials creds() const { return {id, sk, key}; }
  SecurityPolicy policy() const {
    SecurityPolicy p;
    p.require_authentication = true;
    p.encryption_key = key;
    p.peer_keys[id] = pk;
    return p;
  }
  PublicKey pk{};
  SecretKey sk{};
  SenderId id{};
  SymmetricKey key{};
};

TEST(BypassCodec, KeypairFromSeedMatchesSpecVector) {
  Keys k;
  EXPECT_EQ(to_hex(k.pk), "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c");
}

class AuthModes : public ::testing::TestWithParam<Mode> {};

TEST_P(AuthModes, RoundTripAndLayout) {
  Keys k;
  Encoder enc(GetParam(), k.creds(), 0x0102030405060708ULL);
  auto p = enc.encode(collection_hash("telemetry"), 3000, as_bytes("secret data"), kNow);
  ASSERT_TRUE(p.ok());
  const bool sign = GetParam() != Mode::kEncrypted;
  const bool encrypt = GetParam() != Mode::kSigned;
  EXPECT_EQ(p->size(), 12 + 33 + 11 + (encrypt ? 16 : 0) + (sign ? 64 : 0));
  EXPECT_EQ((*p)[10], (sign ? kSigned : 0) | (encrypt ? kEncrypted : 0));
  EXPECT_EQ((*p)[11], 0x08);  // low byte of the 64-bit sequence
  EXPECT_EQ((*p)[12], kAuthVersion);
  EXPECT_EQ(to_hex(ByteView(*p).subspan(29, 8)), "0102030405060708");
  const bool plaintext_visible =
      std::search(p->begin(), p->end(), std::begin("secret"), std::end("secret") - 1) != p->end();
  EXPECT_EQ(plaintext_visible, !encrypt);

  Decoder dec(k.policy());
  auto m = dec.decode("10.0.0.1", *p, kNow + 10);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(as_chars(m->payload), "secret data");
  EXPECT_EQ(m->sender, k.id);
  EXPECT_EQ(m->sequence, 0x0102030405060708ULL);
  EXPECT_EQ(m->sent_at, kNow);
  EXPECT_EQ(m->signed_by_sender, sign);
  EXPECT_EQ(m->encrypted, encrypt);
  EXPECT_EQ(enc.next_sequence(), 0x0102030405060709ULL);
}

TEST_P(AuthModes, EveryFlippedBitIsRejected) {
  Keys k;
  Encoder enc(GetParam(), k.creds(), 100);
  auto p = enc.encode(5, 3000, as_bytes("abc"), kNow);
  ASSERT_TRUE(p.ok());
  for (std::size_t i = 0; i < p->size(); ++i) {
    Bytes bad = *p;
    bad[i] ^= 0x01;
    Decoder dec(k.policy());
    EXPECT_FALSE(dec.decode("1.1.1.1", bad, kNow).ok()) << "byte " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Bypass, AuthModes,
                         ::testing::Values(Mode::kSigned, Mode::kEncrypted,
                                           Mode::kSignedEncrypted));

TEST(BypassCodec, RejectionsAreCounted) {
  Keys k;
  Encoder enc(Mode::kSignedEncrypted, k.creds(), 1000);
  Decoder dec(k.policy());
  auto p1 = *enc.encode(5, 3000, as_bytes("one"), kNow);
  ASSERT_TRUE(dec.decode("1.1.1.1", p1, kNow).ok());
  // Replay.
  EXPECT_EQ(dec.decode("1.1.1.1", p1, kNow).error().code, "REPLAY_DETECTED");
  EXPECT_EQ(dec.metrics().replay_rejected, 1u);
  // Tampered ciphertext: the signature catches it first.
  auto p2 = *enc.encode(5, 3000, as_bytes("two"), kNow);
  Bytes tampered = p2;
  tampered[50] ^= 0xff;
  EXPECT_EQ(dec.decode("1.1.1.1", tampered, kNow).error().code, "INVALID_SIGNATURE");
  EXPECT_EQ(dec.metrics().signature_rejected, 1u);
  // The genuine one still passes (the forged copy did not burn its sequence).
  EXPECT_TRUE(dec.decode("1.1.1.1", p2, kNow).ok());
  // Truncated.
  EXPECT_EQ(dec.decode("1.1.1.1", ByteView(p2).first(40), kNow).error().code, "TRUNCATED");
  EXPECT_EQ(dec.decode("1.1.1.1", ByteView(p2).first(8), kNow).error().code,
            "INVALID_BYPASS_HEADER");
  EXPECT_EQ(dec.metrics().invalid_dropped, 2u);
  // Stale: TTL 3000 ms + 30 s skew.
  auto p3 = *enc.encode(5, 3000, as_bytes("late"), kNow);
  EXPECT_EQ(dec.decode("1.1.1.1", p3, kNow + 33'001).error().code, "STALE_MESSAGE");
  auto p4 = *enc.encode(5, 3000, as_bytes("future"), kNow + 60'000);
  EXPECT_EQ(dec.decode("1.1.1.1", p4, kNow).error().code, "STALE_MESSAGE");
  EXPECT_EQ(dec.metrics().stale_dropped, 2u);
  // Oversized.
  dec.policy().max_packet_size = 100;
  auto big = *enc.encode(5, 3000, Bytes(200, 1), kNow);
  EXPECT_EQ(dec.decode("1.1.1.1", big, kNow).error().code, "MESSAGE_TOO_LARGE");
  EXPECT_EQ(dec.metrics().oversized_dropped, 1u);
  dec.policy().max_packet_size = kMaxUdpPayload;
  // Allowlist.
  dec.policy().source_allowlist = {"10.0.0.9"};
  auto p5 = *enc.encode(5, 3000, as_bytes("x"), kNow);
  EXPECT_EQ(dec.decode("1.1.1.1", p5, kNow).error().code, "UNAUTHORIZED_SOURCE");
  EXPECT_TRUE(dec.decode("10.0.0.9", p5, kNow).ok());
  EXPECT_EQ(dec.metrics().unauthorized_source, 1u);
  // Plain packets are refused when authentication is required.
  auto plain = *Encoder(Mode::kPlain, {}, 0).encode(5, 3000, as_bytes("x"), kNow);
  EXPECT_EQ(dec.decode("10.0.0.9", plain, kNow).error().code, "UNAUTHENTICATED");
  EXPECT_EQ(dec.metrics().messages_received, 3u);
}

TEST(BypassCodec, WrongKeysAndUnknownSenders) {
  Keys k;
  Keys other;
  other.key.fill(0x43);
  std::array<std::uint8_t, 32> seed{};
  seed.fill(2);
  std::tie(other.pk, other.sk) = keypair_from_seed(seed);

  // Encrypted with another symmetric key.
  auto p = *Encoder(Mode::kEncrypted, {k.id, std::nullopt, other.key}, 1)
                .encode(5, 0, as_bytes("m"), kNow);
  Decoder dec(k.policy());
  EXPECT_EQ(dec.decode("1.1.1.1", p, kNow).error().code, "DECRYPTION_FAILED");
  EXPECT_EQ(dec.metrics().decryption_failed, 1u);
  // Signed with another signing key under our id.
  auto s =
      *Encoder(Mode::kSigned, {k.id, other.sk, std::nullopt}, 1).encode(5, 0, as_bytes("m"), kNow);
  EXPECT_EQ(dec.decode("1.1.1.1", s, kNow).error().code, "INVALID_SIGNATURE");
  // Signed by an id we have no key for.
  SenderId stranger{};
  stranger.fill(9);
  auto u = *Encoder(Mode::kSigned, {stranger, other.sk, std::nullopt}, 1)
                .encode(5, 0, as_bytes("m"), kNow);
  EXPECT_EQ(dec.decode("1.1.1.1", u, kNow).error().code, "UNKNOWN_SENDER");
  EXPECT_EQ(dec.metrics().unknown_sender, 1u);
  // Policy requires signatures: encrypted-only is refused.
  SecurityPolicy strict = k.policy();
  strict.require_signature = true;
  Decoder strict_dec(strict);
  auto e = *Encoder(Mode::kEncrypted, k.creds(), 1).encode(5, 0, as_bytes("m"), kNow);
  EXPECT_EQ(strict_dec.decode("1.1.1.1", e, kNow).error().code, "UNAUTHENTICATED");
  // Decoder without a key.
  SecurityPolicy nokey = k.policy();
  nokey.encryption_key.reset();
  Decoder nokey_dec(nokey);
  EXPECT_EQ(nokey_dec.decode("1.1.1.1", e, kNow).error().code, "MISSING_CREDENTIAL");
  // Encoder without credentials.
  EXPECT_EQ(Encoder(Mode::kSigned, {}, 1).encode(5, 0, as_bytes("m"), kNow).error().code,
            "MISSING_CREDENTIAL");
  EXPECT_EQ(Encoder(Mode::kPlain, {}, 1).encode(5, 0, Bytes(kMaxUdpPayload), kNow).error().code,
            "MESSAGE_TOO_LARGE");
}

TEST(ReplayWindow, SlidingWindowSemantics) {
  ReplayWindow w(64);
  auto accept = [&](std::uint64_t s) {
    if (!w.check(s)) return false;
    w.commit(s);
    return true;
  };
  EXPECT_TRUE(accept(1000));
  EXPECT_FALSE(accept(1000));
  EXPECT_TRUE(accept(998));  // out of order but inside the window
  EXPECT_FALSE(accept(998));
  EXPECT_TRUE(accept(1010));
  EXPECT_TRUE(accept(999));
  EXPECT_FALSE(accept(1010 - 64));  // exactly one window behind: too old
  EXPECT_TRUE(accept(1010 - 63));
  EXPECT_TRUE(accept(5000));  // big jump clears the window
  EXPECT_FALSE(accept(1010));
  EXPECT_TRUE(accept(4999));
  EXPECT_EQ(w.highest(), 5000u);
}

TEST(ReplayWindow, SameScenariosAsRustTests) {
  ReplayWindow w(64);
  auto accept = [&](std::uint64_t s) {
    if (!w.check(s)) return false;
    w.commit(s);
    return true;
  };
  for (std::uint64_t s = 0; s < 10; ++s) EXPECT_TRUE(accept(s));
  EXPECT_FALSE(accept(5));
  ReplayWindow w2(64);
  for (std::uint64_t s : {10, 8, 12, 9}) {
    EXPECT_TRUE(w2.check(s));
    w2.commit(s);
  }
  EXPECT_FALSE(w2.check(8));
}

TEST(LegacySequence, ExtendsU8AcrossWraps) {
  EXPECT_EQ(extend_u8_sequence(200, std::nullopt), 456u);  // a first packet may be anything
  EXPECT_EQ(extend_u8_sequence(255, 256 + 250), 256u + 255);
  EXPECT_EQ(extend_u8_sequence(3, 256 + 250), 512u + 3);    // wrapped forward
  EXPECT_EQ(extend_u8_sequence(240, 512 + 3), 256u + 240);  // slightly older, before the wrap
}

TEST(LegacySequence, PlainReplayWindowPerSource) {
  SecurityPolicy policy;
  policy.legacy_replay_window = 64;
  Decoder dec(policy);
  Encoder enc(Mode::kPlain, {}, 0);
  std::vector<Bytes> packets;
  for (int i = 0; i < 300; ++i) packets.push_back(*enc.encode(1, 0, as_bytes("x"), kNow));
  // First packet with a high u8 sequence is accepted (Rust would call it old).
  EXPECT_TRUE(dec.decode("a", packets[200], kNow).ok());
  for (int i = 201; i < 300; ++i) ASSERT_TRUE(dec.decode("a", packets[i], kNow).ok()) << i;
  EXPECT_EQ(dec.decode("a", packets[299], kNow).error().code, "REPLAY_DETECTED");
  EXPECT_TRUE(dec.decode("b", packets[299], kNow).ok());  // other source, own window
}

}  // namespace
}  // namespace peat::transport::bypass
