#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "peat/security/trust.hpp"
#include "test_util.hpp"

namespace peat::security {
namespace {

using test::kNow;

DeviceKeypair seeded(std::uint8_t b) {
  return *DeviceKeypair::from_secret_bytes(Bytes(32, b));
}

constexpr std::uint64_t kHour = 3600 * 1000;

class TrustTest : public ::testing::Test {
 protected:
  DeviceKeypair authority = seeded(1);
  DeviceKeypair member = seeded(2);
  DeviceKeypair delegate = seeded(3);
  DeviceKeypair stranger = seeded(4);
  CertificateBundle bundle{"MESH"};

  void SetUp() override { bundle.add_authority(authority.public_key_bytes()); }

  MeshCertificate cert(const DeviceKeypair& issuer, const DeviceKeypair& subject,
                       std::string node_id, std::uint8_t perms = permissions::kStandard,
                       std::uint64_t expires = kNow + kHour) {
    return *MeshCertificate::issue(issuer, subject.public_key_bytes(), "MESH", std::move(node_id),
                                   MeshTier::Tactical, perms, kNow, expires);
  }
};

TEST_F(TrustTest, AuthorityIssuedCertificateValidates) {
  ASSERT_TRUE(bundle.add_certificate(cert(authority, member, "node-1"), kNow).ok());
  EXPECT_TRUE(bundle.validate_peer(member.public_key_bytes(), kNow).ok());
  EXPECT_TRUE(bundle.validate_node_id("node-1", kNow).ok());
  EXPECT_EQ(bundle.get_certificate_by_node_id("node-1")->tier, MeshTier::Tactical);
  EXPECT_EQ(bundle.get_certificate(member.public_key_bytes())->permissions, permissions::kStandard);
  EXPECT_EQ(bundle.size(), 1u);
  EXPECT_EQ(bundle.authority_count(), 1u);
  bundle.add_authority(authority.public_key_bytes());
  EXPECT_EQ(bundle.authority_count(), 1u);  // deduplicated
  EXPECT_EQ(bundle.validate_peer(stranger.public_key_bytes(), kNow).error().code, "PEER_NOT_FOUND");
  EXPECT_EQ(bundle.validate_node_id("ghost", kNow).error().code, "PEER_NOT_FOUND");
}

TEST_F(TrustTest, UntrustedIssuerRejected) {
  auto r = bundle.add_certificate(cert(stranger, member, "node-1"), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "INVALID_CERT_CHAIN");
  EXPECT_TRUE(bundle.empty());
}

// The Rust bundle accepts any self-signed root; here only trusted authorities' roots pass.
TEST_F(TrustTest, SelfSignedRootOnlyFromTrustedAuthority) {
  auto rogue = *MeshCertificate::new_root(stranger, "MESH", "rogue", MeshTier::Enterprise, kNow, 0);
  EXPECT_EQ(bundle.add_certificate(rogue, kNow).error().code, "INVALID_CERT_CHAIN");
  auto root = *MeshCertificate::new_root(authority, "MESH", "root", MeshTier::Enterprise, kNow, 0);
  EXPECT_TRUE(bundle.add_certificate(root, kNow).ok());
}

TEST_F(TrustTest, BadSignatureAndWrongMeshRejected) {
  auto c = cert(authority, member, "node-1");
  c.node_id = "node-2";  // breaks the signature
  EXPECT_EQ(bundle.add_certificate(c, kNow).error().code, "INVALID_SIGNATURE");
  auto other_mesh = *MeshCertificate::issue(authority, member.public_key_bytes(), "OTHER", "n",
                                            MeshTier::Edge, 0, kNow, 0);
  EXPECT_EQ(bundle.add_certificate(other_mesh, kNow).error().code, "CERTIFICATE_ERROR");
}

TEST_F(TrustTest, ExpiryAndRemoveExpired) {
  ASSERT_TRUE(bundle.add_certificate(cert(authority, member, "node-1"), kNow).ok());
  EXPECT_EQ(bundle.validate_peer(member.public_key_bytes(), kNow + kHour).error().code,
            "CERTIFICATE_EXPIRED");
  EXPECT_EQ(
      bundle.add_certificate(cert(authority, delegate, "d", 0, kNow + 10), kNow + 10).error().code,
      "CERTIFICATE_EXPIRED");
  EXPECT_EQ(bundle.remove_expired(kNow + 1), 0u);
  EXPECT_EQ(bundle.remove_expired(kNow + kHour), 1u);
  EXPECT_TRUE(bundle.empty());
  EXPECT_EQ(bundle.get_certificate_by_node_id("node-1"), nullptr);
}

TEST_F(TrustTest, EnrollDelegation) {
  auto delegation = cert(authority, delegate, "delegate",
                         permissions::kStandard | permissions::kEnroll, kNow + kHour);
  ASSERT_TRUE(bundle.add_certificate(delegation, kNow).ok());
  EXPECT_TRUE(bundle.add_certificate(cert(delegate, member, "member"), kNow).ok());
  EXPECT_TRUE(bundle.validate_peer(member.public_key_bytes(), kNow).ok());
  // Once the delegator expires, its member no longer validates (the chain is re-checked).
  auto later = kNow + kHour;
  EXPECT_TRUE(bundle.validate_peer(member.public_key_bytes(), later - 1).ok());
  auto late_member = cert(delegate, stranger, "late", permissions::kStandard, kNow + 10 * kHour);
  EXPECT_EQ(bundle.add_certificate(late_member, later).error().code, "INVALID_CERT_CHAIN");
}

TEST_F(TrustTest, DelegationWithoutEnrollRejected) {
  ASSERT_TRUE(bundle.add_certificate(cert(authority, delegate, "delegate"), kNow).ok());
  auto r = bundle.add_certificate(cert(delegate, member, "member"), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "INVALID_CERT_CHAIN");
  EXPECT_NE(r.error().message.find("ENROLL"), std::string::npos);
}

TEST_F(TrustTest, DelegateCannotGrantMoreThanItHolds) {
  ASSERT_TRUE(bundle
                  .add_certificate(cert(authority, delegate, "delegate",
                                        permissions::kRelay | permissions::kEnroll),
                                   kNow)
                  .ok());
  EXPECT_FALSE(bundle.add_certificate(cert(delegate, member, "m", permissions::kAdmin), kNow).ok());
  EXPECT_TRUE(bundle.add_certificate(cert(delegate, member, "m", permissions::kRelay), kNow).ok());
}

TEST_F(TrustTest, NodeIdCannotBeHijacked) {
  ASSERT_TRUE(bundle.add_certificate(cert(authority, member, "node-1"), kNow).ok());
  auto r = bundle.add_certificate(cert(authority, stranger, "node-1"), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "CERTIFICATE_ERROR");
  EXPECT_EQ(bundle.get_certificate_by_node_id("node-1")->subject_public_key,
            member.public_key_bytes());
  // The same subject may renew under a new node_id; the old one is unbound.
  ASSERT_TRUE(bundle.add_certificate(cert(authority, member, "node-9"), kNow).ok());
  EXPECT_EQ(bundle.get_certificate_by_node_id("node-1"), nullptr);
  EXPECT_NE(bundle.get_certificate_by_node_id("node-9"), nullptr);
  EXPECT_EQ(bundle.size(), 1u);
}

TEST_F(TrustTest, SignedRevocations) {
  ASSERT_TRUE(bundle
                  .add_certificate(cert(authority, delegate, "delegate",
                                        permissions::kStandard | permissions::kEnroll),
                                   kNow)
                  .ok());
  ASSERT_TRUE(bundle.add_certificate(cert(delegate, member, "member"), kNow).ok());

  // Not signed by an authority: refused.
  auto forged = *Revocation::create(stranger, delegate.public_key_bytes(), "x", kNow);
  EXPECT_EQ(bundle.add_revocation(forged).error().code, "CERTIFICATE_ERROR");
  auto tampered = *Revocation::create(authority, member.public_key_bytes(), "x", kNow);
  tampered.subject_public_key = delegate.public_key_bytes();
  EXPECT_EQ(bundle.add_revocation(tampered).error().code, "INVALID_SIGNATURE");

  auto rev = *Revocation::create(authority, delegate.public_key_bytes(), "compromised", kNow);
  ASSERT_TRUE(bundle.add_revocation(rev).ok());
  EXPECT_TRUE(bundle.is_revoked(delegate.public_key_bytes()));
  EXPECT_EQ(bundle.validate_peer(delegate.public_key_bytes(), kNow).error().code,
            "CERTIFICATE_REVOKED");
  // The delegate's member loses its chain.
  EXPECT_EQ(bundle.validate_peer(member.public_key_bytes(), kNow).error().code,
            "INVALID_CERT_CHAIN");
  EXPECT_EQ(bundle.add_certificate(cert(authority, delegate, "delegate"), kNow).error().code,
            "CERTIFICATE_REVOKED");
}

TEST(Revocation, EncodeDecode) {
  auto authority = seeded(1);
  auto rev = *Revocation::create(authority, seeded(2).public_key_bytes(), "lost device", kNow);
  auto bytes = rev.encode();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), 4 + 32 + 2 + 11 + 8 + 32 + 64);
  auto back = Revocation::decode(*bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, rev);
  EXPECT_TRUE(back->verify().ok());
  EXPECT_EQ(Revocation::decode(Bytes(10)).error().code, "SERIALIZATION_ERROR");
  Bytes bad_tag = *bytes;
  bad_tag[0] = 'X';
  EXPECT_FALSE(Revocation::decode(bad_tag).ok());
  Bytes trailing = *bytes;
  trailing.push_back(1);
  EXPECT_FALSE(Revocation::decode(trailing).ok());
  Bytes long_reason = *bytes;
  long_reason[36] = 0xff;
  EXPECT_FALSE(Revocation::decode(long_reason).ok());
}

TEST(CertificateBundleDirs, LoadAuthoritiesAndCertificates) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "peat-trust-XXXXXX").string();
  std::filesystem::path dir = ::mkdtemp(tmpl.data());
  auto authority = seeded(1);
  auto delegate = seeded(3);
  auto member = seeded(2);
  auto write = [&](const std::string& name, ByteView data) {
    std::ofstream(dir / "auth" / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(data.data()),
               static_cast<std::streamsize>(data.size()));
  };
  std::filesystem::create_directories(dir / "auth");
  write("a.pub", authority.public_key().view());
  write("junk", as_bytes("not a key"));
  write("zero.pub", Bytes(32, 0));  // not a valid point
  CertificateBundle bundle;
  auto n = bundle.load_authorities_from_dir(dir / "auth");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);

  std::filesystem::create_directories(dir / "certs");
  auto put = [&](const std::string& name, const MeshCertificate& c) {
    Bytes b = *c.encode();
    std::ofstream(dir / "certs" / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  };
  // The member (issued by the delegate) sorts before its delegate: loading must still work.
  put("0-member.cert", *MeshCertificate::issue(delegate, member.public_key_bytes(), "M", "m",
                                               MeshTier::Edge, permissions::kRelay, kNow, 0));
  put("1-delegate.cert",
      *MeshCertificate::issue(authority, delegate.public_key_bytes(), "M", "d", MeshTier::Regional,
                              permissions::kRelay | permissions::kEnroll, kNow, 0));
  put("2-rogue.cert",
      *MeshCertificate::new_root(seeded(9), "M", "rogue", MeshTier::Enterprise, kNow, 0));
  std::ofstream(dir / "certs" / "3-garbage") << "garbage";
  auto c = bundle.load_certificates_from_dir(dir / "certs", kNow);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, 2u);
  EXPECT_TRUE(bundle.validate_node_id("m", kNow).ok());
  EXPECT_FALSE(bundle.validate_node_id("rogue", kNow).ok());
  EXPECT_EQ(bundle.load_authorities_from_dir(dir / "missing").error().code, "IO_ERROR");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace peat::security
