#include <gtest/gtest.h>

#include "peat/security/enrollment.hpp"
#include "test_util.hpp"

namespace peat::security {
namespace {

using test::kNow;

DeviceKeypair seeded(std::uint8_t b) {
  return *DeviceKeypair::from_secret_bytes(Bytes(32, b));
}

constexpr std::uint64_t kDay = 24ULL * 3600 * 1000;

EnrollmentRequest request(const DeviceKeypair& kp, std::string mesh, std::string token,
                          std::uint64_t ts = kNow) {
  return *EnrollmentRequest::create(kp, std::move(mesh), "tac-west-1", MeshTier::Tactical,
                                    to_bytes(token), ts);
}

TEST(EnrollmentRequest, SignVerifyEncodeDecode) {
  auto member = seeded(2);
  auto req = request(member, "A1B2C3D4", "bootstrap-token-123");
  EXPECT_TRUE(req.verify_signature().ok());
  EXPECT_EQ(req.subject_public_key, member.public_key_bytes());
  auto bytes = req.encode();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), 109 + 8 + 10 + 19);
  auto back = EnrollmentRequest::decode(*bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->mesh_id, "A1B2C3D4");
  EXPECT_EQ(back->node_id, "tac-west-1");
  EXPECT_EQ(back->requested_tier, MeshTier::Tactical);
  EXPECT_EQ(back->bootstrap_token, to_bytes("bootstrap-token-123"));
  EXPECT_EQ(back->timestamp_ms, kNow);
  EXPECT_TRUE(back->verify_signature().ok());
  auto tampered = *back;
  tampered.node_id = "other";
  EXPECT_EQ(tampered.verify_signature().error().code, "INVALID_SIGNATURE");
}

TEST(EnrollmentRequest, DecodeErrors) {
  auto err = [](const Bytes& b) { return EnrollmentRequest::decode(b).error().message; };
  EXPECT_EQ(err(Bytes(10)), "enrollment request too short: 10 bytes (min 109)");
  Bytes good = *request(seeded(2), "MESH", "tok").encode();
  Bytes b = good;
  b[32] = 250;
  EXPECT_EQ(err(b), "enrollment request truncated at mesh_id");
  b = good;
  b[37] = 250;
  EXPECT_EQ(err(b), "enrollment request truncated at node_id");
  b = good;
  b[38 + 10] = 7;
  EXPECT_EQ(err(b), "invalid tier byte");
  b = good;
  b[49] = 0xff;
  EXPECT_EQ(err(b), "enrollment request truncated at token");
  b = good;
  b.push_back(0);
  EXPECT_NE(err(b).find("trailing"), std::string::npos);
  b = good;
  b[33] = 0xc0;
  EXPECT_NE(err(b).find("invalid mesh_id"), std::string::npos);
  EXPECT_FALSE(
      EnrollmentRequest::create(seeded(2), std::string(300, 'x'), "n", MeshTier::Edge, {}, kNow)
          .ok());
}

TEST(EnrollmentResponse, RoundTrips) {
  auto authority = seeded(1);
  auto cert = *MeshCertificate::new_root(authority, "DEADBEEF", "enterprise-0",
                                         MeshTier::Enterprise, kNow, kNow + 3600000);
  auto with_secret = EnrollmentResponse::approved(cert, SecretBytes(as_bytes("secret")), kNow);
  auto bytes = with_secret.encode();
  ASSERT_TRUE(bytes.ok());
  auto back = EnrollmentResponse::decode(*bytes);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->status, EnrollmentStatus::Approved);
  ASSERT_TRUE(back->certificate.has_value());
  EXPECT_EQ(*back->certificate, cert);
  ASSERT_TRUE(back->formation_secret.has_value());
  EXPECT_EQ(as_chars(back->formation_secret->view()), "secret");
  EXPECT_EQ(back->timestamp_ms, kNow);

  auto no_secret = EnrollmentResponse::decode(*EnrollmentResponse::approved(cert, {}, 5).encode());
  ASSERT_TRUE(no_secret.ok());
  EXPECT_FALSE(no_secret->formation_secret.has_value());

  auto denied = *EnrollmentResponse::denied("bad token", 7).encode();
  EXPECT_EQ(to_hex(denied), "020900" + to_hex(as_bytes("bad token")) + "0000" + "0700000000000000");
  auto d = EnrollmentResponse::decode(denied);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->status, EnrollmentStatus::Denied);
  EXPECT_EQ(d->reason, "bad token");

  auto pending = *EnrollmentResponse::pending(1).encode();
  EXPECT_EQ(pending.size(), kEnrollmentResponseMinSize);
  EXPECT_EQ(EnrollmentResponse::decode(pending)->status, EnrollmentStatus::Pending);
  auto revoked = EnrollmentResponse::decode(*EnrollmentResponse::revoked("gone", 1).encode());
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->status, EnrollmentStatus::Revoked);
  EXPECT_EQ(revoked->reason, "gone");
}

TEST(EnrollmentResponse, DecodeErrors) {
  auto err = [](const Bytes& b) { return EnrollmentResponse::decode(b).error(); };
  EXPECT_EQ(err(Bytes(5)).code, "SERIALIZATION_ERROR");
  Bytes pending = *EnrollmentResponse::pending(1).encode();
  Bytes b = pending;
  b[0] = 4;
  EXPECT_NE(err(b).message.find("status"), std::string::npos);
  b = pending;
  b[3] = 2;  // has_cert flag neither 0 nor 1
  EXPECT_FALSE(EnrollmentResponse::decode(b).ok());
  b = pending;
  b[3] = 1;  // claims a certificate that is not there
  EXPECT_FALSE(EnrollmentResponse::decode(b).ok());
  b = pending;
  b.push_back(0);
  EXPECT_FALSE(EnrollmentResponse::decode(b).ok());
  b = pending;
  b[1] = 10;  // reason longer than the rest
  EXPECT_FALSE(EnrollmentResponse::decode(b).ok());
  Bytes with_reason = *EnrollmentResponse::denied("x", 1).encode();
  with_reason[0] = 1;  // Approved responses carry no reason
  EXPECT_FALSE(EnrollmentResponse::decode(with_reason).ok());
  EnrollmentResponse bad;
  bad.reason = "not allowed on Pending";
  EXPECT_FALSE(bad.encode().ok());
}

TEST(EnrollmentStatus, Bytes) {
  EXPECT_EQ(static_cast<int>(EnrollmentStatus::Pending), 0);
  EXPECT_EQ(static_cast<int>(EnrollmentStatus::Approved), 1);
  EXPECT_EQ(static_cast<int>(EnrollmentStatus::Denied), 2);
  EXPECT_EQ(static_cast<int>(EnrollmentStatus::Revoked), 3);
  EXPECT_EQ(enrollment_status_name(EnrollmentStatus::Denied), "Denied");
}

class ServiceTest : public ::testing::Test {
 protected:
  DeviceKeypair authority = seeded(1);
  DeviceKeypair member = seeded(2);
  StaticEnrollmentService service{authority, "DEADBEEF", day_options()};

  static StaticEnrollmentService::Options day_options() {
    StaticEnrollmentService::Options o;
    o.validity_ms = kDay;
    return o;
  }

  void SetUp() override {
    service.add_token(as_bytes("valid-token"), MeshTier::Regional, permissions::kStandard);
  }
};

TEST_F(ServiceTest, ApprovesWithTokenTierAndPermissions) {
  auto resp = service.process_request(request(member, "DEADBEEF", "valid-token"), kNow);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->status, EnrollmentStatus::Approved);
  const auto& cert = *resp->certificate;
  EXPECT_TRUE(cert.verify().ok());
  EXPECT_EQ(cert.subject_public_key, member.public_key_bytes());
  EXPECT_EQ(cert.issuer_public_key, authority.public_key_bytes());
  EXPECT_EQ(cert.mesh_id, "DEADBEEF");
  EXPECT_EQ(cert.node_id, "tac-west-1");
  EXPECT_EQ(cert.tier, MeshTier::Regional);  // the token's tier, not the requested one
  EXPECT_EQ(cert.permissions, permissions::kStandard);
  EXPECT_EQ(cert.issued_at_ms, kNow);
  EXPECT_EQ(cert.expires_at_ms, kNow + kDay);
  EXPECT_EQ(resp->timestamp_ms, kNow);
  EXPECT_FALSE(resp->formation_secret.has_value());
  EXPECT_EQ(service.check_status(member.public_key_bytes()), EnrollmentStatus::Approved);
  // The certificate is accepted by a bundle trusting the authority.
  CertificateBundle bundle("DEADBEEF");
  bundle.add_authority(authority.public_key_bytes());
  EXPECT_TRUE(bundle.add_certificate(cert, kNow).ok());
}

TEST_F(ServiceTest, ClientChecksTheApproval) {
  auto resp = *service.process_request(request(member, "DEADBEEF", "valid-token"), kNow);
  const auto me = member.public_key_bytes();
  const auto auth = authority.public_key_bytes();
  EXPECT_TRUE(check_enrollment_response(resp, me, "DEADBEEF", auth, kNow).ok());
  EXPECT_EQ(check_enrollment_response(resp, seeded(7).public_key_bytes(), "DEADBEEF", auth, kNow)
                .error()
                .code,
            "CERTIFICATE_ERROR");
  EXPECT_EQ(check_enrollment_response(resp, me, "OTHER", auth, kNow).error().code,
            "CERTIFICATE_ERROR");
  EXPECT_EQ(check_enrollment_response(resp, me, "DEADBEEF", me, kNow).error().code,
            "CERTIFICATE_ERROR");
  EXPECT_EQ(check_enrollment_response(resp, me, "DEADBEEF", auth, kNow + kDay).error().code,
            "CERTIFICATE_EXPIRED");
  auto forged = resp;
  forged.certificate->permissions = permissions::kAuthority;
  EXPECT_EQ(check_enrollment_response(forged, me, "DEADBEEF", auth, kNow).error().code,
            "INVALID_SIGNATURE");
  auto denied = EnrollmentResponse::denied("invalid bootstrap token", kNow);
  auto r = check_enrollment_response(denied, me, "DEADBEEF", auth, kNow);
  EXPECT_EQ(r.error().code, "PERMISSION_DENIED");
  EXPECT_EQ(r.error().message, "enrollment Denied: invalid bootstrap token");
}

TEST_F(ServiceTest, TokensAreOneTime) {
  EXPECT_EQ(service.remaining_tokens(), 1u);
  ASSERT_EQ(service.process_request(request(member, "DEADBEEF", "valid-token"), kNow)->status,
            EnrollmentStatus::Approved);
  EXPECT_EQ(service.remaining_tokens(), 0u);
  auto again = service.process_request(request(seeded(5), "DEADBEEF", "valid-token"), kNow);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, EnrollmentStatus::Denied);
  EXPECT_EQ(again->reason, "invalid bootstrap token");
}

TEST_F(ServiceTest, Denials) {
  auto bad_token = service.process_request(request(member, "DEADBEEF", "invalid-token"), kNow);
  ASSERT_TRUE(bad_token.ok());
  EXPECT_EQ(bad_token->status, EnrollmentStatus::Denied);
  EXPECT_EQ(bad_token->reason, "invalid bootstrap token");

  auto wrong_mesh = service.process_request(request(member, "WRONG_MESH", "valid-token"), kNow);
  ASSERT_TRUE(wrong_mesh.ok());
  EXPECT_EQ(wrong_mesh->reason, "mesh ID mismatch: expected DEADBEEF, got WRONG_MESH");

  auto stale =
      service.process_request(request(member, "DEADBEEF", "valid-token", kNow - kDay), kNow);
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->status, EnrollmentStatus::Denied);
  auto future =
      service.process_request(request(member, "DEADBEEF", "valid-token", kNow + kDay), kNow);
  EXPECT_EQ(future->status, EnrollmentStatus::Denied);
  EXPECT_EQ(service.remaining_tokens(), 1u);  // denials consume nothing
}

TEST_F(ServiceTest, BadSignatureIsAnError) {
  auto req = request(member, "DEADBEEF", "valid-token");
  req.signature[0] ^= 1;
  auto r = service.process_request(req, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "INVALID_SIGNATURE");
  EXPECT_EQ(service.remaining_tokens(), 1u);
}

TEST_F(ServiceTest, RevokeGivesSignedRevocationAndBlocksReEnrollment) {
  ASSERT_TRUE(service.process_request(request(member, "DEADBEEF", "valid-token"), kNow).ok());
  auto rev = service.revoke(member.public_key_bytes(), "lost", kNow + 1);
  ASSERT_TRUE(rev.ok());
  EXPECT_TRUE(rev->verify().ok());
  EXPECT_EQ(rev->issuer_public_key, authority.public_key_bytes());
  EXPECT_EQ(service.check_status(member.public_key_bytes()), EnrollmentStatus::Revoked);
  EXPECT_EQ(service.check_status(seeded(9).public_key_bytes()), EnrollmentStatus::Pending);
  service.add_token(as_bytes("second"), MeshTier::Edge, permissions::kRelay);
  auto again = service.process_request(request(member, "DEADBEEF", "second"), kNow);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, EnrollmentStatus::Revoked);
}

TEST(StaticEnrollmentService, ZeroValidityMeansNoExpiryAndSecretIsSent) {
  StaticEnrollmentService::Options options;
  options.validity_ms = 0;
  options.formation_secret = SecretBytes(Bytes(32, 7));
  StaticEnrollmentService svc(seeded(1), "M", options);
  svc.add_token(as_bytes("t"), MeshTier::Edge, permissions::kRelay);
  auto r = svc.process_request(request(seeded(2), "M", "t"), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->certificate->expires_at_ms, 0u);
  ASSERT_TRUE(r->formation_secret.has_value());
  EXPECT_EQ(r->formation_secret->size(), 32u);
}

}  // namespace
}  // namespace peat::security
