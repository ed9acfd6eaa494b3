#include <gtest/gtest.h>

#include "peat/common/random.hpp"
#include "peat/security/formation_key.hpp"
#include "peat/security/os_rng.hpp"
#include "test_util.hpp"

namespace peat::security {
namespace {

using test::key_of;

TEST(FormationKey, SpecVector) {
  FormationKey key("alpha-company", key_of(0x42));
  FormationNonce zero{};
  EXPECT_EQ(to_hex(key.respond(zero)),
            "cd76d139ab113fe42d8f7b06ea348da3d6cf41d670acb60e1fd5a48bfa2aca99");
  EXPECT_EQ(key.formation_id(), "alpha-company");
}

TEST(FormationKey, AcceptsSameKeyRejectsOthers) {
  OsRng rng;
  FormationKey key("alpha-company", key_of(0x42));
  auto ch = key.create_challenge(rng);
  EXPECT_TRUE(key.verify_response(ch.nonce, key.respond(ch.nonce)));
  EXPECT_TRUE(key.verify_response(ch.nonce, ch.expected));
  FormationKey other_secret("alpha-company", key_of(0x43));
  EXPECT_FALSE(key.verify_response(ch.nonce, other_secret.respond(ch.nonce)));
  FormationKey other_id("bravo-company", key_of(0x42));
  EXPECT_FALSE(key.verify_response(ch.nonce, other_id.respond(ch.nonce)));
  auto proof = key.respond(ch.nonce);
  EXPECT_FALSE(key.verify_response(ch.nonce, ByteView(proof).first(31)));
  EXPECT_FALSE(key.verify_response(ch.nonce, {}));
}

TEST(FormationKey, NoncesDiffer) {
  OsRng rng;
  FormationKey key("f", key_of(1));
  auto a = key.create_challenge(rng);
  auto b = key.create_challenge(rng);
  EXPECT_NE(a.nonce, b.nonce);
  EXPECT_NE(a.expected, b.expected);
}

TEST(FormationKey, FromBase64) {
  SeededRng rng(4);
  std::string secret = FormationKey::generate_secret(rng);
  auto decoded = from_base64(secret);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->size(), 32u);
  auto a = FormationKey::from_base64("test", "  " + secret + "\n");
  ASSERT_TRUE(a.ok());
  FormationKey direct("test", *SecretKey::from(*decoded));
  FormationNonce n{};
  EXPECT_EQ(a->respond(n), direct.respond(n));

  auto invalid = FormationKey::from_base64("test", "not-valid-base64!!!");
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, "AUTH_FAILED");
  EXPECT_NE(invalid.error().message.find("Invalid base64"), std::string::npos);

  // Non-32-byte secrets are hashed with SHA-256 and give distinct keys.
  auto short_key = FormationKey::from_base64("test", to_base64(Bytes(16, 0)));
  auto long_key = FormationKey::from_base64("test", to_base64(Bytes(138, 0xab)));
  ASSERT_TRUE(short_key.ok() && long_key.ok());
  EXPECT_NE(short_key->respond(n), long_key->respond(n));
  auto digest = Sha256::digest(Bytes(16, 0));
  FormationKey hashed("test", *SecretKey::from(digest));
  EXPECT_EQ(short_key->respond(n), hashed.respond(n));
}

TEST(FormationKey, PrintingRedactsKey) {
  FormationKey key("alpha", key_of(0x42));
  EXPECT_NE(key.to_string().find("REDACTED"), std::string::npos);
  EXPECT_NE(key.to_string().find("alpha"), std::string::npos);
}

TEST(FormationChallenge, RoundTripAndLayout) {
  FormationChallenge c{"test-formation", {}};
  c.nonce[0] = 0x42;
  auto bytes = c.encode();
  ASSERT_TRUE(bytes.ok());
  ASSERT_EQ(bytes->size(), 2 + 14 + 32);
  EXPECT_EQ((*bytes)[0], 14);
  EXPECT_EQ((*bytes)[1], 0);
  auto back = FormationChallenge::decode(*bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->formation_id, "test-formation");
  EXPECT_EQ(back->nonce, c.nonce);
}

TEST(FormationChallenge, DecodeErrors) {
  auto err = [](ByteView b) { return FormationChallenge::decode(b).error(); };
  EXPECT_EQ(err(Bytes{1}).message, "Challenge too short");
  EXPECT_EQ(err(Bytes{1}).code, "AUTH_FAILED");
  EXPECT_EQ(err(Bytes{5, 0, 'a'}).message, "Challenge truncated");
  Bytes bad_utf8 = {1, 0, 0xff};
  bad_utf8.resize(3 + 32);
  EXPECT_NE(err(bad_utf8).message.find("Invalid formation ID"), std::string::npos);
  Bytes trailing = *FormationChallenge{"x", {}}.encode();
  trailing.push_back(0);
  EXPECT_NE(err(trailing).message.find("trailing"), std::string::npos);
  FormationChallenge huge{std::string(70000, 'a'), {}};
  EXPECT_FALSE(huge.encode().ok());
}

TEST(FormationChallengeResponse, RoundTripAndErrors) {
  FormationChallengeResponse r;
  r.response[0] = 0x42;
  auto back = FormationChallengeResponse::decode(r.encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->response, r.response);
  EXPECT_EQ(FormationChallengeResponse::decode(Bytes(31)).error().message, "Response too short");
  EXPECT_FALSE(FormationChallengeResponse::decode(Bytes(33)).ok());
}

TEST(FormationAuthResult, Bytes) {
  EXPECT_EQ(to_byte(FormationAuthResult::Accepted), 0x01);
  EXPECT_EQ(to_byte(FormationAuthResult::Rejected), 0x00);
  EXPECT_EQ(formation_auth_result_from_byte(1), FormationAuthResult::Accepted);
  EXPECT_EQ(formation_auth_result_from_byte(0), FormationAuthResult::Rejected);
  EXPECT_EQ(formation_auth_result_from_byte(2), FormationAuthResult::Rejected);
  EXPECT_EQ(kFormationAuthTimeout.count(), 30);
}

// The whole exchange at the message level: acceptor challenges, connector answers.
TEST(FormationHandshake, WireLevelAcceptRejectAndIdMismatch) {
  OsRng rng;
  FormationKey acceptor("alpha", key_of(9));
  auto run = [&](const FormationKey& connector) -> FormationAuthResult {
    auto ch = acceptor.create_challenge(rng);
    auto wire = *FormationChallenge{acceptor.formation_id(), ch.nonce}.encode();
    auto got = FormationChallenge::decode(wire);
    if (!got || got->formation_id != connector.formation_id()) return FormationAuthResult::Rejected;
    auto resp_wire = FormationChallengeResponse{connector.respond(got->nonce)}.encode();
    auto resp = FormationChallengeResponse::decode(resp_wire);
    bool ok = resp && acceptor.verify_response(ch.nonce, resp->response);
    return formation_auth_result_from_byte(
        to_byte(ok ? FormationAuthResult::Accepted : FormationAuthResult::Rejected));
  };
  EXPECT_EQ(run(FormationKey("alpha", key_of(9))), FormationAuthResult::Accepted);
  EXPECT_EQ(run(FormationKey("alpha", key_of(8))), FormationAuthResult::Rejected);
  EXPECT_EQ(run(FormationKey("bravo", key_of(9))), FormationAuthResult::Rejected);
}

}  // namespace
}  // namespace peat::security
