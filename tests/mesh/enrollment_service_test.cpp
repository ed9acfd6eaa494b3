// Enrollment over QUIC (ALPN peat/enroll/1): token parsing, the sans-I/O server's denials, and
// a real listener on loopback answering the `enroll()` client and raw clients.
#include <gtest/gtest.h>

#include <thread>

#include "peat/common/random.hpp"
#include "peat/mesh/enrollment_service.hpp"
#include "peat/security/node_identity.hpp"
#include "peat/security/os_rng.hpp"

namespace peat::mesh {
namespace {

using security::DeviceKeypair;
using security::EnrollmentRequest;
using security::EnrollmentResponse;
using security::EnrollmentStatus;
using security::MeshTier;

const Bytes kSeed = to_bytes("enrollment-test-formation-secret");

transport::quic::Identity identity_of(const DeviceKeypair& kp) {
  transport::quic::Identity id;
  std::copy_n(kp.secret_bytes().data(), 32, id.seed.begin());
  id.public_key = kp.public_key_bytes();
  return id;
}

UnixMillis now_ms() {
  return SystemClock().unix_millis();
}

TEST(EnrollmentTokensTest, ParsesLikeTheRustNode) {
  auto t = parse_enrollment_tokens(" tok1=Regional , tok2,tok3=bogus,,tok4=EDGE, =tactical ");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].token, "tok1");
  EXPECT_EQ(t[0].tier, MeshTier::Regional);
  EXPECT_FALSE(t[0].tier_defaulted);
  EXPECT_EQ(t[1].token, "tok2");
  EXPECT_EQ(t[1].tier, MeshTier::Tactical);
  EXPECT_TRUE(t[1].tier_defaulted);
  EXPECT_EQ(t[2].tier, MeshTier::Tactical);  // unknown tier
  EXPECT_TRUE(t[2].tier_defaulted);
  EXPECT_EQ(t[3].tier, MeshTier::Edge);
  EXPECT_TRUE(parse_enrollment_tokens("").empty());
  EXPECT_TRUE(parse_enrollment_tokens(" , ,").empty());
}

struct ServerFixture : ::testing::Test {
  DeviceKeypair authority = security::node_authority_keypair(kSeed);
  EnrollmentServer server{security::node_authority_keypair(kSeed),
                          "peat",
                          {{"good", MeshTier::Regional, false}, {"other", MeshTier::Edge, false}}};
  DeviceKeypair node = security::node_endpoint_keypair(kSeed, "node-1");

  Bytes request(const DeviceKeypair& signer, std::string mesh, std::string token) {
    auto r = EnrollmentRequest::create(signer, std::move(mesh), "node-1", MeshTier::Enterprise,
                                       to_bytes(token), now_ms());
    EXPECT_TRUE(r.ok());
    return *r->encode();
  }
  EnrollmentResponse answer(const security::PublicKeyBytes& conn_key, ByteView req) {
    auto r = EnrollmentResponse::decode(server.handle(conn_key, req, now_ms()));
    EXPECT_TRUE(r.ok());
    return *r;
  }
};

TEST_F(ServerFixture, ApprovesAGoodTokenOnceWithTheTokensTier) {
  std::vector<security::MeshCertificate> issued;
  server.on_issued([&](const security::MeshCertificate& c) { issued.push_back(c); });
  auto r = answer(node.public_key_bytes(), request(node, "peat", "good"));
  ASSERT_EQ(r.status, EnrollmentStatus::Approved) << r.reason;
  ASSERT_TRUE(r.certificate);
  EXPECT_EQ(r.certificate->subject_public_key, node.public_key_bytes());
  EXPECT_EQ(r.certificate->issuer_public_key, authority.public_key_bytes());
  EXPECT_EQ(r.certificate->tier, MeshTier::Regional);  // the token's, not the requested one
  EXPECT_EQ(r.certificate->permissions, security::permissions::kStandard);
  EXPECT_EQ(r.certificate->expires_at_ms - r.certificate->issued_at_ms, kEnrollmentValidityMs);
  EXPECT_TRUE(r.certificate->verify().ok());
  ASSERT_EQ(issued.size(), 1u);
  // One-time: the same token again is refused.
  auto again = answer(node.public_key_bytes(), request(node, "peat", "good"));
  EXPECT_EQ(again.status, EnrollmentStatus::Denied);
  EXPECT_EQ(again.reason, "invalid bootstrap token");
  EXPECT_EQ(server.remaining_tokens(), 1u);
}

TEST_F(ServerFixture, DeniesWithTheRustReasons) {
  auto bad = answer(node.public_key_bytes(), request(node, "peat", "nope"));
  EXPECT_EQ(bad.status, EnrollmentStatus::Denied);
  EXPECT_EQ(bad.reason, "invalid bootstrap token");

  auto mesh = answer(node.public_key_bytes(), request(node, "other-mesh", "good"));
  EXPECT_EQ(mesh.reason, "mesh ID mismatch: expected peat, got other-mesh");

  Bytes big(70000, 0x41);
  auto large = answer(node.public_key_bytes(), big);
  EXPECT_EQ(large.reason, "request too large: 70000 bytes (max 65536)");

  auto garbage = answer(node.public_key_bytes(), to_bytes("not a request"));
  EXPECT_EQ(garbage.status, EnrollmentStatus::Denied);
  EXPECT_EQ(garbage.reason.rfind("malformed request: ", 0), 0u) << garbage.reason;

  // A request whose signature does not verify (last byte flipped).
  auto forged = request(node, "peat", "good");
  forged.back() ^= 1;
  auto sig = answer(node.public_key_bytes(), forged);
  EXPECT_EQ(sig.reason.rfind("enrollment error: INVALID_SIGNATURE", 0), 0u) << sig.reason;
  EXPECT_EQ(server.remaining_tokens(), 2u);  // nothing consumed
}

TEST_F(ServerFixture, TheSubjectMustBeTheConnectionsKey) {
  // Signed by the device key (what the Rust node would enroll) over a connection made with the
  // endpoint key: refused before the token is used.
  auto device = security::node_device_keypair(kSeed, "node-1");
  auto r = answer(node.public_key_bytes(), request(device, "peat", "good"));
  EXPECT_EQ(r.status, EnrollmentStatus::Denied);
  EXPECT_EQ(r.reason, "subject key does not match the connection's QUIC key");
  EXPECT_EQ(server.remaining_tokens(), 2u);
}

// A listener on loopback, its loop on a thread of its own.
struct ListenerFixture : ServerFixture {
  runtime::IoLoop loop;
  security::OsRng rng;
  DeviceKeypair server_key = security::node_endpoint_keypair(kSeed, "server");
  std::unique_ptr<EnrollmentListener> listener;
  std::thread thread;
  std::uint16_t port = 0;

  void SetUp() override {
    EnrollmentListener::Config c{identity_of(server_key), "127.0.0.1", 0};
    listener = std::make_unique<EnrollmentListener>(loop, rng, c, server);
    ASSERT_TRUE(listener->start().ok());
    port = *listener->local_port();
    thread = std::thread([this] { loop.run(); });
  }
  void TearDown() override {
    loop.stop();
    if (thread.joinable()) thread.join();
    listener.reset();
  }
  EnrollClientOptions options(const DeviceKeypair& id, std::string token) {
    EnrollClientOptions o;
    o.server_host = "127.0.0.1";
    o.server_port = port;
    o.server_id = transport::quic::peer_id_from_public_key(server_key.public_key_bytes());
    o.identity = &id;
    o.node_id = "node-1";
    o.token = to_bytes(token);
    o.authority = authority.public_key_bytes();
    o.timeout = std::chrono::milliseconds(5000);
    return o;
  }
  // One raw message over a fresh enrollment connection; the answer (empty on none).
  Bytes exchange(ByteView message) {
    runtime::IoLoop client_loop;
    auto id = DeviceKeypair::generate(rng);
    transport::quic::QuicTransportConfig qc;
    qc.identity = identity_of(id);
    qc.bind_host = "127.0.0.1";
    qc.accept_alpns = {};
    qc.connect_alpn = std::string(transport::quic::kAlpnEnroll);
    transport::quic::QuicTransport quic(client_loop, std::move(qc), rng);
    std::optional<Bytes> got;
    bool failed = false;
    Bytes msg(message.begin(), message.end());
    transport::TransportEvents ev;
    ev.on_connected = [&](const transport::PeerId& peer) {
      EXPECT_TRUE(quic.send(peer, transport::Channel::kEnrollment, msg).ok());
    };
    ev.on_message = [&](const transport::PeerId&, transport::Channel, Bytes m) { got = m; };
    ev.on_disconnected = [&](const transport::PeerId&, transport::DisconnectReason,
                             const std::string&) { failed = true; };
    quic.set_events(std::move(ev));
    EXPECT_TRUE(quic.start().ok());
    quic.connect(transport::quic::peer_id_from_public_key(server_key.public_key_bytes()),
                 {{"127.0.0.1", port}});
    client_loop.run_until([&] { return got.has_value() || failed; }, std::chrono::seconds(5));
    quic.stop();
    return got.value_or(Bytes{});
  }
};

TEST_F(ListenerFixture, EnrollsOverQuicAndTheCertificateVerifies) {
  auto cert = enroll(options(node, "good"));
  ASSERT_TRUE(cert.ok()) << cert.error().to_string();
  EXPECT_EQ(cert->subject_public_key, node.public_key_bytes());
  EXPECT_EQ(cert->issuer_public_key, authority.public_key_bytes());
  EXPECT_TRUE(cert->verify().ok());
  EXPECT_TRUE(cert->is_valid(now_ms()));
  // It chains to the authority in a bundle of that mesh.
  security::CertificateBundle bundle("peat");
  bundle.add_authority(authority.public_key_bytes());
  EXPECT_TRUE(bundle.add_certificate(*cert, now_ms()).ok());
  EXPECT_TRUE(bundle.validate_peer(node.public_key_bytes(), now_ms()).ok());
  EXPECT_EQ(listener->requests(), 1u);
}

TEST_F(ListenerFixture, DeniedRequestsReportTheReason) {
  auto bad = enroll(options(node, "wrong-token"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "ENROLLMENT_DENIED");
  EXPECT_NE(bad.error().message.find("invalid bootstrap token"), std::string::npos);

  auto o = options(node, "good");
  o.mesh_id = "elsewhere";
  auto mesh = enroll(o);
  ASSERT_FALSE(mesh.ok());
  EXPECT_NE(mesh.error().message.find("mesh ID mismatch: expected peat, got elsewhere"),
            std::string::npos);

  auto large = EnrollmentResponse::decode(exchange(Bytes(100000, 7)));
  ASSERT_TRUE(large.ok());
  EXPECT_EQ(large->status, EnrollmentStatus::Denied);
  EXPECT_EQ(large->reason, "request too large: 100000 bytes (max 65536)");

  auto garbage = EnrollmentResponse::decode(exchange(to_bytes("garbage")));
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(garbage->status, EnrollmentStatus::Denied);
  EXPECT_EQ(garbage->reason.rfind("malformed request: ", 0), 0u);
}

TEST_F(ListenerFixture, APinnedAuthorityMustHaveIssuedTheCertificate) {
  auto o = options(node, "good");
  auto stranger = DeviceKeypair::generate(rng);
  o.authority = stranger.public_key_bytes();
  auto r = enroll(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "CERTIFICATE_ERROR");
}

TEST_F(ListenerFixture, AWrongServerIdFailsTheHandshake) {
  auto o = options(node, "good");
  o.server_id = transport::quic::peer_id_from_public_key(node.public_key_bytes());
  auto r = enroll(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "TRANSPORT");
  EXPECT_EQ(server.remaining_tokens(), 2u);
}

}  // namespace
}  // namespace peat::mesh
