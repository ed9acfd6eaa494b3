#include <gtest/gtest.h>

#include "peat/security/certificate.hpp"
#include "test_util.hpp"

namespace peat::security {
namespace {

using test::hex;
using test::kNow;

DeviceKeypair seeded(std::uint8_t b) {
  return *DeviceKeypair::from_secret_bytes(Bytes(32, b));
}

TEST(MeshTier, NamesBytesOrder) {
  EXPECT_EQ(parse_tier(" TACTICAL "), MeshTier::Tactical);
  EXPECT_EQ(parse_tier("enterprise"), MeshTier::Enterprise);
  EXPECT_EQ(parse_tier("Regional"), MeshTier::Regional);
  EXPECT_EQ(parse_tier("edge"), MeshTier::Edge);
  EXPECT_FALSE(parse_tier("core").has_value());
  for (std::uint8_t b = 0; b < 4; ++b) {
    auto t = tier_from_byte(b);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(parse_tier(tier_name(*t)), t);
  }
  EXPECT_FALSE(tier_from_byte(4).has_value());
  EXPECT_LT(MeshTier::Enterprise, MeshTier::Edge);
}

TEST(Permissions, Bits) {
  EXPECT_EQ(permissions::kStandard, 0x03);
  EXPECT_EQ(permissions::kAuthority, 0x87);
  MeshCertificate c;
  c.permissions = permissions::kStandard;
  EXPECT_TRUE(c.has_permission(permissions::kRelay));
  EXPECT_TRUE(c.has_permission(permissions::kStandard));
  EXPECT_FALSE(c.has_permission(permissions::kEnroll));
  EXPECT_FALSE(c.has_permission(permissions::kRelay | permissions::kAdmin));
}

// Spec §2.12 vector: root certificate of the authority with seed 07×32.
TEST(MeshCertificate, SpecRootVector) {
  auto authority = seeded(0x07);
  auto cert = MeshCertificate::new_root(authority, "A1B2C3D4", "n1", MeshTier::Enterprise,
                                        1700000000000ULL, 0);
  ASSERT_TRUE(cert.ok());
  auto bytes = cert->encode();
  ASSERT_TRUE(bytes.ok());
  ASSERT_EQ(bytes->size(), 158u);
  std::string pk = "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c";
  EXPECT_EQ(to_hex(*bytes),
            pk + "08" + "4131423243334434" + "02" + "6e31" + "00" + "87" + "0068e5cf8b010000" +
                "0000000000000000" + pk +
                "01a96787862cf32d41982d6b050ba3c7812e641148f69a78ea94d822e415f4a7dfae6d32ba1ef5ec"
                "7d775930c6a806772fb41850b562b6a7af75b97ad757ba08");
  EXPECT_TRUE(cert->is_root());
  EXPECT_TRUE(cert->verify().ok());
  auto back = MeshCertificate::decode(*bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *cert);
}

TEST(MeshCertificate, SignVerifyAndTampering) {
  auto authority = seeded(1);
  auto member = seeded(2);
  auto cert = MeshCertificate::issue(authority, member.public_key_bytes(), "MESH", "node-1",
                                     MeshTier::Tactical, permissions::kStandard, kNow, kNow + 1000);
  ASSERT_TRUE(cert.ok());
  EXPECT_FALSE(cert->is_root());
  EXPECT_TRUE(cert->verify().ok());
  auto tampered = *cert;
  tampered.permissions = permissions::kAuthority;
  EXPECT_EQ(tampered.verify().error().code, "INVALID_SIGNATURE");
  auto wrong_signer = *cert;
  ASSERT_TRUE(wrong_signer.sign_with(member).ok());
  wrong_signer.issuer_public_key = authority.public_key_bytes();
  EXPECT_FALSE(wrong_signer.verify().ok());
  auto bad_issuer = *cert;
  bad_issuer.issuer_public_key = {};
  EXPECT_EQ(bad_issuer.verify().error().code, "INVALID_PUBLIC_KEY");
  auto encoded = cert->encode();
  ASSERT_TRUE(encoded.ok());
  for (std::size_t i = 0; i < encoded->size(); i += 7) {
    Bytes flipped = *encoded;
    flipped[i] ^= 0x40;
    auto d = MeshCertificate::decode(flipped);
    if (d.ok()) {
      EXPECT_FALSE(d->verify().ok()) << i;
    }
  }
}

TEST(MeshCertificate, Validity) {
  auto authority = seeded(1);
  auto cert = *MeshCertificate::issue(authority, seeded(2).public_key_bytes(), "M", "n",
                                      MeshTier::Edge, 0, kNow, kNow + 1000);
  EXPECT_FALSE(cert.is_valid(kNow - 1));
  EXPECT_TRUE(cert.is_valid(kNow));
  EXPECT_TRUE(cert.is_valid(kNow + 999));
  EXPECT_FALSE(cert.is_valid(kNow + 1000));
  EXPECT_EQ(cert.time_remaining_ms(kNow + 400), 600u);
  EXPECT_EQ(cert.time_remaining_ms(kNow + 5000), 0u);
  auto forever = *MeshCertificate::issue(authority, seeded(2).public_key_bytes(), "M", "n",
                                         MeshTier::Edge, 0, kNow, 0);
  EXPECT_TRUE(forever.is_valid(kNow + 365ULL * 24 * 3600 * 1000));
  EXPECT_EQ(forever.time_remaining_ms(kNow), UINT64_MAX);
}

TEST(MeshCertificate, OversizeIdsAreRejectedNotTruncated) {
  auto authority = seeded(1);
  auto r = MeshCertificate::issue(authority, seeded(2).public_key_bytes(), std::string(256, 'm'),
                                  "n", MeshTier::Edge, 0, kNow, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "SERIALIZATION_ERROR");
  auto ok = MeshCertificate::issue(authority, seeded(2).public_key_bytes(), std::string(255, 'm'),
                                   std::string(255, 'n'), MeshTier::Edge, 0, kNow, 0);
  ASSERT_TRUE(ok.ok());
  auto back = MeshCertificate::decode(*ok->encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->node_id.size(), 255u);
}

TEST(MeshCertificate, DecodeErrors) {
  auto err = [](const Bytes& b) { return MeshCertificate::decode(b).error(); };
  EXPECT_EQ(err(Bytes(10)).message, "certificate too short: 10 bytes (min 148)");
  EXPECT_EQ(err(Bytes(10)).code, "SERIALIZATION_ERROR");
  auto valid = *MeshCertificate::new_root(seeded(3), "MESH", "node", MeshTier::Regional, kNow, 0);
  Bytes good = *valid.encode();
  Bytes mesh_len = good;
  mesh_len[32] = 200;
  EXPECT_EQ(err(mesh_len).message, "certificate truncated at mesh_id");
  Bytes node_len = good;
  node_len[32 + 1 + 4] = 100;
  EXPECT_EQ(err(node_len).message, "certificate truncated at node_id");
  Bytes bad_tier = good;
  bad_tier[32 + 1 + 4 + 1 + 4] = 9;
  EXPECT_EQ(err(bad_tier).message, "invalid tier byte");
  Bytes bad_utf8 = good;
  bad_utf8[33] = 0xff;
  EXPECT_NE(err(bad_utf8).message.find("invalid mesh_id"), std::string::npos);
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_NE(err(trailing).message.find("trailing"), std::string::npos);
  EXPECT_TRUE(MeshCertificate::decode(Bytes(148)).ok());  // empty ids, tier 0: well-formed
}

}  // namespace
}  // namespace peat::security
