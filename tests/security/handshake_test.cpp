#include <gtest/gtest.h>

#include "peat/common/random.hpp"
#include "peat/security/handshake.hpp"
#include "test_util.hpp"

namespace peat::security {
namespace {

using test::key_of;
using test::kNow;

const Instant t0{};

TEST(Frame, LittleEndianLengthPrefix) {
  auto f = frame(as_bytes("abc"));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(to_hex(*f), "03000000616263");
}

TEST(FrameAssembler, ByteByByteAndLimits) {
  Bytes whole = *frame(as_bytes("hello"));
  FrameAssembler a(16);
  for (std::size_t i = 0; i + 1 < whole.size(); ++i) {
    auto r = a.push(ByteView(whole).subspan(i, 1));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->has_value()) << i;
  }
  auto done = a.push(ByteView(whole).last(1));
  ASSERT_TRUE(done.ok() && done->has_value());
  EXPECT_EQ(as_chars(**done), "hello");
  EXPECT_EQ(a.announced_length(), 5u);

  FrameAssembler small(4);
  auto big = small.push(whole);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().message, "frame too large: 5 bytes (max 4)");
  EXPECT_FALSE(small.push(as_bytes("x")).ok());  // stays failed

  FrameAssembler extra(16);
  Bytes with_tail = whole;
  with_tail.push_back('!');
  auto r = extra.push(with_tail);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ(as_chars(**r), "hello");
  auto empty = FrameAssembler(16).push(*frame({}));
  ASSERT_TRUE(empty.ok() && empty->has_value());
  EXPECT_TRUE((*empty)->empty());
}

struct Run {
  FormationAuthResult acceptor;
  std::optional<FormationAuthResult> connector;
};

// Drives both sides through their byte streams, delivering in `chunk`-sized pieces.
Result<Run> handshake(const FormationKey& acceptor_key, const FormationKey& connector_key,
                      std::size_t chunk, ByteView acceptor_binding = {},
                      ByteView connector_binding = {}) {
  SeededRng rng(11);
  auto acceptor = FormationAcceptor::start(acceptor_key, rng, t0, acceptor_binding);
  if (!acceptor) return acceptor.error();
  FormationConnector connector(connector_key, t0, connector_binding);
  Bytes to_connector = acceptor->challenge_frame();
  std::optional<Bytes> response;
  for (std::size_t i = 0; i < to_connector.size() && !response; i += chunk) {
    auto out = connector.on_data(
        ByteView(to_connector).subspan(i, std::min(chunk, to_connector.size() - i)), t0);
    if (!out) return out.error();
    response = out->send;
  }
  if (!response) return make_error("TEST", "connector never answered");
  std::optional<FormationAuthResult> verdict;
  for (std::size_t i = 0; i < response->size() && !verdict; i += chunk) {
    auto r = acceptor->on_data(
        ByteView(*response).subspan(i, std::min(chunk, response->size() - i)), t0);
    if (!r) return r.error();
    verdict = *r;
  }
  if (!verdict) return make_error("TEST", "acceptor never decided");
  std::uint8_t byte = FormationAcceptor::verdict_byte(*verdict);
  auto last = connector.on_data(ByteView(&byte, 1), t0);
  if (!last) return last.error();
  return Run{*verdict, last->result};
}

TEST(FormationHandshake, SameKeyAcceptedInAnyChunking) {
  FormationKey key("alpha", key_of(5));
  for (std::size_t chunk : {1u, 3u, 7u, 1000u}) {
    auto run = handshake(key, FormationKey("alpha", key_of(5)), chunk);
    ASSERT_TRUE(run.ok()) << run.error().to_string();
    EXPECT_EQ(run->acceptor, FormationAuthResult::Accepted);
    EXPECT_EQ(run->connector, FormationAuthResult::Accepted);
  }
}

TEST(FormationHandshake, WrongSecretRejected) {
  auto run = handshake(FormationKey("alpha", key_of(5)), FormationKey("alpha", key_of(6)), 64);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->acceptor, FormationAuthResult::Rejected);
  EXPECT_EQ(run->connector, FormationAuthResult::Rejected);
}

// A proof bound to one connection's channel binding does not verify on another connection.
TEST(FormationHandshake, ChannelBinding) {
  FormationKey key("alpha", key_of(5));
  Bytes tls_a(32, 0xaa), tls_b(32, 0xbb);
  auto same = handshake(key, key, 16, tls_a, tls_a);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->acceptor, FormationAuthResult::Accepted);
  auto relayed = handshake(key, key, 16, tls_a, tls_b);
  ASSERT_TRUE(relayed.ok());
  EXPECT_EQ(relayed->acceptor, FormationAuthResult::Rejected);
  auto unbound = handshake(key, key, 16, tls_a, {});
  ASSERT_TRUE(unbound.ok());
  EXPECT_EQ(unbound->acceptor, FormationAuthResult::Rejected);
  FormationNonce n{};
  EXPECT_NE(key.respond(n, tls_a), key.respond(n));
  EXPECT_TRUE(key.verify_response(n, key.respond(n, tls_a), tls_a));
}

TEST(FormationHandshake, OtherFormationAbortsConnector) {
  auto run = handshake(FormationKey("alpha", key_of(5)), FormationKey("bravo", key_of(5)), 64);
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().code, "AUTH_FAILED");
  EXPECT_EQ(run.error().message, "formation ID mismatch: expected bravo, got alpha");
}

TEST(FormationHandshake, TimeoutsAndOversizeFrames) {
  SeededRng rng(1);
  FormationKey key("alpha", key_of(5));
  auto acceptor = FormationAcceptor::start(key, rng, t0);
  ASSERT_TRUE(acceptor.ok());
  auto late = acceptor->on_data(Bytes(4), t0 + std::chrono::seconds(31));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "CHALLENGE_EXPIRED");

  auto acceptor2 = FormationAcceptor::start(key, rng, t0);
  Bytes huge_len = {0x01, 0x01, 0x00, 0x00};  // 257 > 256
  EXPECT_EQ(acceptor2->on_data(huge_len, t0).error().code, "AUTH_FAILED");

  auto acceptor3 = FormationAcceptor::start(key, rng, t0);
  auto garbage = acceptor3->on_data(*frame(Bytes(5, 1)), t0);  // not a 32-byte proof
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(*garbage, FormationAuthResult::Rejected);

  FormationConnector connector(key, t0);
  Bytes big_challenge = {0x01, 0x04, 0x00, 0x00};  // 1025 > 1024
  EXPECT_EQ(connector.on_data(big_challenge, t0).error().code, "AUTH_FAILED");
  FormationConnector slow(key, t0);
  EXPECT_EQ(slow.on_data({}, t0 + std::chrono::seconds(31)).error().code, "CHALLENGE_EXPIRED");
  FormationConnector bad(key, t0);
  auto malformed = bad.on_data(*frame(Bytes{0xff, 0xff}), t0);
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.error().message.find("invalid challenge"), std::string::npos);

  FormationKey long_id(std::string(1000, 'x'), key_of(1));
  EXPECT_FALSE(FormationAcceptor::start(long_id, rng, t0).ok());
}

class EnrollmentWire : public ::testing::Test {
 protected:
  DeviceKeypair authority = *DeviceKeypair::from_secret_bytes(Bytes(32, 1));
  DeviceKeypair member = *DeviceKeypair::from_secret_bytes(Bytes(32, 2));
  StaticEnrollmentService service{authority, "MESH", {}};

  void SetUp() override { service.add_token(as_bytes("tok"), MeshTier::Edge, permissions::kRelay); }

  EnrollmentResponse serve(ByteView stream) {
    auto reply = serve_enrollment(service, stream, kNow);
    EXPECT_TRUE(reply.ok());
    auto resp = parse_enrollment_response_frame(*reply);
    EXPECT_TRUE(resp.ok());
    return resp.ok() ? *resp : EnrollmentResponse{};
  }
};

TEST_F(EnrollmentWire, ApprovedOverFrames) {
  auto req =
      *EnrollmentRequest::create(member, "MESH", "edge-1", MeshTier::Edge, to_bytes("tok"), kNow);
  auto resp = serve(*enrollment_request_frame(req));
  EXPECT_EQ(resp.status, EnrollmentStatus::Approved);
  ASSERT_TRUE(resp.certificate.has_value());
  EXPECT_EQ(resp.certificate->node_id, "edge-1");
}

TEST_F(EnrollmentWire, DenialsMatchRustHandler) {
  Bytes too_large = {0x01, 0x00, 0x01, 0x00};  // 65,537
  EXPECT_EQ(serve(too_large).reason, "request too large: 65537 bytes (max 65536)");
  auto malformed = serve(*frame(Bytes(10)));
  EXPECT_EQ(malformed.status, EnrollmentStatus::Denied);
  EXPECT_EQ(malformed.reason.rfind("malformed request: enrollment request too short", 0), 0u);
  auto req = *EnrollmentRequest::create(member, "MESH", "n", MeshTier::Edge, to_bytes("tok"), kNow);
  req.signature[5] ^= 1;
  auto bad_sig = serve(*frame(*req.encode()));
  EXPECT_EQ(bad_sig.reason.rfind("enrollment error: INVALID_SIGNATURE", 0), 0u);
  EXPECT_EQ(service.remaining_tokens(), 1u);
}

TEST_F(EnrollmentWire, IncompleteStreamsAreErrors) {
  EXPECT_FALSE(serve_enrollment(service, Bytes{1, 0}, kNow).ok());
  EXPECT_FALSE(serve_enrollment(service, Bytes{10, 0, 0, 0, 1}, kNow).ok());
  EXPECT_FALSE(parse_enrollment_response_frame(Bytes{1, 0, 0}).ok());
  Bytes reply = *frame(*EnrollmentResponse::pending(1).encode());
  reply.push_back(0);
  EXPECT_FALSE(parse_enrollment_response_frame(reply).ok());
  EXPECT_EQ(kEnrollmentAlpn, "peat/enroll/1");
}

}  // namespace
}  // namespace peat::security
