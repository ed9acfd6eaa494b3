#include <gtest/gtest.h>

#include "peat/common/random.hpp"
#include "peat/security/genesis.hpp"
#include "peat/security/node_identity.hpp"
#include "peat/security/trust.hpp"
#include "test_util.hpp"

namespace peat::security {
namespace {

using test::key_of;
using test::kNow;

MeshGenesis test_genesis() {
  return MeshGenesis::with_seed("TEST", key_of(0x42), MembershipPolicy::Controlled, kNow);
}

TEST(MeshGenesis, SpecVectors) {
  auto g = test_genesis();
  EXPECT_EQ(g.mesh_id(), "0B6CA76F");
  EXPECT_EQ(to_hex(g.formation_secret().view()),
            "5bf3e94cecc6d11918a622dc71a0896dbd18229436e1048a8127ecd68ff121f2");
  EXPECT_EQ(to_hex(g.authority_public_key()),
            "1bc4e00b6ac43c0e115eff3b2a974b819d8488412bc72da16388cafa97aabf6c");
}

TEST(MeshGenesis, DerivationProperties) {
  auto g = test_genesis();
  EXPECT_EQ(g.mesh_id().size(), 8u);
  for (char c : g.mesh_id()) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
  EXPECT_EQ(g.mesh_id(), test_genesis().mesh_id());
  auto other_name = MeshGenesis::with_seed("TEST2", key_of(0x42), MembershipPolicy::Open, kNow);
  EXPECT_NE(other_name.mesh_id(), g.mesh_id());
  auto other_seed = MeshGenesis::with_seed("TEST", key_of(0x43), MembershipPolicy::Open, kNow);
  EXPECT_NE(other_seed.mesh_id(), g.mesh_id());
  EXPECT_FALSE(g.formation_secret() == g.mesh_seed());
  // The authority ignores the name (salt none).
  EXPECT_EQ(other_name.authority_public_key(), g.authority_public_key());
  SeededRng rng(1);
  auto random = MeshGenesis::create("R", MembershipPolicy::Strict, rng, kNow);
  EXPECT_EQ(random.policy(), MembershipPolicy::Strict);
  EXPECT_EQ(random.created_at_ms(), kNow);
}

TEST(MeshGenesis, RootAndIssuedCertificates) {
  auto g = test_genesis();
  auto root = g.root_certificate("authority-node", kNow);
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->is_root());
  EXPECT_TRUE(root->verify().ok());
  EXPECT_EQ(root->tier, MeshTier::Enterprise);
  EXPECT_EQ(root->permissions, permissions::kAuthority);
  EXPECT_EQ(root->expires_at_ms, 0u);
  EXPECT_EQ(root->mesh_id, g.mesh_id());

  auto member = DeviceKeypair::generate();
  auto day = g.issue_certificate(member.public_key_bytes(), "m1", MeshTier::Tactical,
                                 permissions::kStandard, 24ULL * 3600 * 1000, kNow);
  ASSERT_TRUE(day.ok());
  EXPECT_EQ(day->expires_at_ms, kNow + 24ULL * 3600 * 1000);
  EXPECT_EQ(day->issuer_public_key, g.authority_public_key());
  auto forever = g.issue_certificate(member.public_key_bytes(), "m1", MeshTier::Tactical,
                                     permissions::kStandard, 0, kNow);
  EXPECT_EQ(forever->expires_at_ms, 0u);

  CertificateBundle bundle(g.mesh_id());
  bundle.add_authority(g.credentials().authority_public_key);
  EXPECT_TRUE(bundle.add_certificate(*root, kNow).ok());
  EXPECT_TRUE(bundle.add_certificate(*day, kNow).ok());
}

TEST(MeshGenesis, ExternalAuthority) {
  auto external = DeviceKeypair::generate();
  auto g =
      MeshGenesis::with_authority("TEST", key_of(0x42), external, MembershipPolicy::Open, kNow);
  EXPECT_EQ(g.authority_public_key(), external.public_key_bytes());
  EXPECT_NE(g.authority_public_key(), test_genesis().authority_public_key());
  auto back = MeshGenesis::decode(g.encode()->view());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->authority_public_key(), external.public_key_bytes());
}

TEST(MeshGenesis, EncodeDecode) {
  auto g = test_genesis();
  auto bytes = g.encode();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), 75u + 4);
  auto back = MeshGenesis::decode(bytes->view());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->mesh_name(), "TEST");
  EXPECT_TRUE(back->mesh_seed() == g.mesh_seed());
  EXPECT_EQ(back->authority_public_key(), g.authority_public_key());
  EXPECT_EQ(back->created_at_ms(), kNow);
  EXPECT_EQ(back->policy(), MembershipPolicy::Controlled);
  EXPECT_EQ(back->mesh_id(), g.mesh_id());

  auto err = [](ByteView b) { return MeshGenesis::decode(b).error().message; };
  EXPECT_EQ(err(Bytes(10)), "genesis too short: 10 bytes (min 75)");
  Bytes b(bytes->view().begin(), bytes->view().end());
  Bytes bad_policy = b;
  bad_policy.back() = 99;
  EXPECT_EQ(err(bad_policy), "invalid policy byte");
  Bytes truncated = b;
  truncated[0] = 200;
  EXPECT_EQ(err(truncated), "genesis truncated at mesh_name");
  Bytes trailing = b;
  trailing.push_back(0);
  EXPECT_NE(err(trailing).find("trailing"), std::string::npos);
  Bytes bad_utf8 = b;
  bad_utf8[2] = 0xff;
  EXPECT_NE(err(bad_utf8).find("invalid mesh_name"), std::string::npos);
}

TEST(MeshGenesis, PrintingRedactsSeed) {
  auto g = test_genesis();
  std::string s = g.to_string();
  EXPECT_NE(s.find("REDACTED"), std::string::npos);
  EXPECT_NE(s.find("0B6CA76F"), std::string::npos);
  EXPECT_EQ(s.find("4242"), std::string::npos);
}

TEST(MeshCredentials, EncodeDecode) {
  auto g = test_genesis();
  auto creds = g.credentials();
  EXPECT_EQ(creds.mesh_id, "0B6CA76F");
  EXPECT_EQ(creds.mesh_name, "TEST");
  EXPECT_TRUE(creds.formation_secret == g.formation_secret());
  auto bytes = creds.encode();
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->size(), 75u + 4);
  auto back = MeshCredentials::decode(bytes->view());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->mesh_id, creds.mesh_id);
  EXPECT_EQ(back->authority_public_key, creds.authority_public_key);
  EXPECT_TRUE(back->formation_secret == creds.formation_secret);
  EXPECT_EQ(back->policy, creds.policy);

  Bytes b(bytes->view().begin(), bytes->view().end());
  EXPECT_EQ(MeshCredentials::decode(Bytes(74)).error().message,
            "credentials too short: 74 bytes (min 75)");
  Bytes lower = b;
  lower[2 + 4 + 1] = 'b';  // mesh_id must be uppercase hex
  EXPECT_FALSE(MeshCredentials::decode(lower).ok());
  Bytes bad_policy = b;
  bad_policy.back() = 3;
  EXPECT_EQ(MeshCredentials::decode(bad_policy).error().message, "invalid policy byte");
  MeshCredentials bad_id = creds;
  bad_id.mesh_id = "ABC";
  EXPECT_FALSE(bad_id.encode().ok());
}

TEST(MembershipPolicy, ParseAndBytes) {
  EXPECT_EQ(parse_policy(" OPEN "), MembershipPolicy::Open);
  EXPECT_EQ(parse_policy("controlled"), MembershipPolicy::Controlled);
  EXPECT_EQ(parse_policy("Strict"), MembershipPolicy::Strict);
  EXPECT_FALSE(parse_policy("closed").has_value());
  EXPECT_EQ(policy_from_byte(2), MembershipPolicy::Strict);
  EXPECT_FALSE(policy_from_byte(3).has_value());
  EXPECT_EQ(policy_name(MembershipPolicy::Controlled), "Controlled");
  EXPECT_EQ(MeshCredentials{}.policy, MembershipPolicy::Controlled);  // default
}

// Spec S10 / §2.12 node-binary derivations.
TEST(NodeIdentity, SpecVectors) {
  auto secret = as_bytes("test-formation-secret");
  EXPECT_EQ(node_endpoint_keypair(secret, "peat-mesh-0").public_key().to_hex(),
            "3f62a7b13f6d578be64b2500008ee5e9bfe29dc529016571185dc501c8a39468");
  EXPECT_EQ(ota_signing_keypair(secret).public_key().to_hex(),
            "10c1092100b0bdb8305e86666fc1547182cf55a08813c36cc57ebd86ea786077");
  EXPECT_EQ(lite_node_id("peat-mesh-0"), 0xD13BF8D5u);
  EXPECT_EQ(lite_node_id(""), 0u);
  EXPECT_EQ(node_device_keypair(secret, "h").public_key(),
            DeviceKeypair::from_seed(secret, "h").public_key());
  EXPECT_EQ(node_authority_keypair(Bytes(32, 0x42)).public_key().to_hex(),
            "1bc4e00b6ac43c0e115eff3b2a974b819d8488412bc72da16388cafa97aabf6c");
}

}  // namespace
}  // namespace peat::security
