// CertificateStore on a real LMDB store in a temporary folder: the §1.20 document layout,
// load_all skipping revoked/forged/invalid entries, and the watcher hot-adding certificates
// and removing revoked ones from the live bundle.
#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>

#include "peat/common/random.hpp"
#include "peat/mesh/certificate_store.hpp"

namespace peat::mesh {
namespace {

namespace fs = std::filesystem;
using security::DeviceKeypair;
using security::MeshCertificate;
using security::MeshTier;

constexpr UnixMillis kNow = 1'700'000'000'000;
constexpr UnixMillis kDay = 24ull * 3600 * 1000;

struct StoreFixture : ::testing::Test {
  fs::path dir;
  std::unique_ptr<store::DocumentStore> docs;
  SeededRng rng{7};
  DeviceKeypair authority = DeviceKeypair::generate(rng);
  DeviceKeypair a = DeviceKeypair::generate(rng);
  DeviceKeypair b = DeviceKeypair::generate(rng);
  DeviceKeypair rogue = DeviceKeypair::generate(rng);

  void SetUp() override {
    char tmpl[] = "/tmp/peat_cert_store_XXXXXX";
    dir = mkdtemp(tmpl);
    auto opened = store::DocumentStore::open(dir.string(), doc::ActorId(16, 1));
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    docs = std::move(opened.value());
  }
  void TearDown() override {
    docs.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  security::CertificateBundle bundle() {
    security::CertificateBundle out("peat");
    out.add_authority(authority.public_key_bytes());
    return out;
  }
  MeshCertificate cert_for(const DeviceKeypair& subject, const DeviceKeypair& issuer,
                           const std::string& node, UnixMillis expires = kNow + kDay) {
    return *MeshCertificate::issue(issuer, subject.public_key_bytes(), "peat", node,
                                   MeshTier::Regional, security::permissions::kStandard, kNow,
                                   expires);
  }
  std::string hex(const DeviceKeypair& k) { return to_hex(ByteView(k.public_key_bytes())); }
};

TEST_F(StoreFixture, PublishWritesTheSpecLayout) {
  auto live = bundle();
  CertificateStore cs(*docs, live);
  auto cert = cert_for(a, authority, "node-a");
  ASSERT_TRUE(cs.publish_certificate(cert, kNow).ok());
  auto doc = docs->get_json("certificates:" + hex(a));
  ASSERT_TRUE(doc.ok() && doc->has_value());
  const auto& j = **doc;
  EXPECT_EQ(j["cert_data"], to_base64(*cert.encode()));
  EXPECT_EQ(j["node_id"], "node-a");
  EXPECT_EQ(j["tier"], "Regional");
  EXPECT_EQ(j["subject"], hex(a));
  EXPECT_EQ(j["issuer"], hex(authority));
  EXPECT_EQ(j["permissions"], 3);
  EXPECT_EQ(j["expires_at_ms"], kNow + kDay);
  EXPECT_EQ(j["written_at_ms"], kNow);
  auto found = cs.find_certificate(a.public_key_bytes());
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ(**found, cert);

  // Nothing unchecked: a certificate from a stranger is neither added nor written.
  EXPECT_FALSE(cs.publish_certificate(cert_for(b, rogue, "node-b"), kNow).ok());
  EXPECT_FALSE(docs->get_json("certificates:" + hex(b))->has_value());

  auto rev = security::Revocation::create(authority, a.public_key_bytes(), "stolen", kNow);
  ASSERT_TRUE(cs.publish_revocation(*rev, kNow).ok());
  EXPECT_EQ(live.get_certificate(a.public_key_bytes()), nullptr);
  auto r = docs->get_json("revocations:" + hex(a));
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((**r)["reason"], "stolen");
  EXPECT_EQ((**r)["subject"], hex(a));
  EXPECT_EQ((**r)["revocation_data"], to_base64(*rev->encode()));
  // A revocation not signed by an authority is refused.
  auto forged = security::Revocation::create(rogue, b.public_key_bytes(), "x", kNow);
  EXPECT_FALSE(cs.publish_revocation(*forged, kNow).ok());
}

TEST_F(StoreFixture, LoadAllSkipsRevokedForgedAndInvalid) {
  {
    auto live = bundle();
    CertificateStore writer(*docs, live);
    ASSERT_TRUE(writer.publish_certificate(cert_for(a, authority, "node-a"), kNow).ok());
    ASSERT_TRUE(writer.publish_certificate(cert_for(b, authority, "node-b"), kNow).ok());
    auto rev = security::Revocation::create(authority, b.public_key_bytes(), "gone", kNow);
    ASSERT_TRUE(writer.publish_revocation(*rev, kNow).ok());
  }
  // Written by other (untrusting) writers straight into the CRDT: a rogue-issued certificate,
  // an unsigned Rust-style revocation of `a`, and garbage.
  auto rogue_cert = cert_for(rogue, rogue, "rogue");
  ASSERT_TRUE(docs->put_json("certificates:" + hex(rogue),
                             {{"cert_data", to_base64(*rogue_cert.encode())}}, kNow)
                  .ok());
  ASSERT_TRUE(docs->put_json("revocations:" + hex(a),
                             {{"subject", hex(a)}, {"reason", "unsigned"}, {"timestamp_ms", kNow}},
                             kNow)
                  .ok());
  ASSERT_TRUE(docs->put_json("certificates:zz", {{"cert_data", "!!"}}, kNow).ok());

  auto fresh = bundle();
  CertificateStore cs(*docs, fresh);
  auto report = cs.load_all(kNow + 1);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->certificates, 1u);
  EXPECT_EQ(report->revocations, 1u);
  EXPECT_EQ(report->skipped, 4u);  // b (revoked), rogue, garbage, the unsigned revocation
  EXPECT_TRUE(fresh.validate_peer(a.public_key_bytes(), kNow + 1).ok());
  EXPECT_FALSE(fresh.validate_peer(b.public_key_bytes(), kNow + 1).ok());
  EXPECT_TRUE(fresh.is_revoked(b.public_key_bytes()));
  EXPECT_FALSE(fresh.validate_peer(rogue.public_key_bytes(), kNow + 1).ok());
  // Expired certificates are skipped too.
  auto later = bundle();
  CertificateStore cs2(*docs, later);
  EXPECT_EQ(cs2.load_all(kNow + kDay)->certificates, 0u);
}

TEST_F(StoreFixture, LoadAllTakesDelegatesInAnyOrder) {
  // `a` holds ENROLL and issued `b`; b's key sorts before a's or not — either way both load.
  auto delegate = *MeshCertificate::issue(authority, a.public_key_bytes(), "peat", "delegate",
                                          MeshTier::Regional, security::permissions::kAuthority,
                                          kNow, kNow + kDay);
  auto member = cert_for(b, a, "member");
  {
    auto live = bundle();
    CertificateStore writer(*docs, live);
    ASSERT_TRUE(writer.publish_certificate(delegate, kNow).ok());
    ASSERT_TRUE(writer.publish_certificate(member, kNow).ok());
  }
  auto fresh = bundle();
  CertificateStore cs(*docs, fresh);
  EXPECT_EQ(cs.load_all(kNow)->certificates, 2u);
  EXPECT_TRUE(fresh.validate_peer(b.public_key_bytes(), kNow).ok());
}

TEST_F(StoreFixture, WatcherHotAddsAndRemovesRevoked) {
  auto live = bundle();
  CertificateStore cs(*docs, live);
  std::vector<std::pair<std::string, CertificateStore::Applied>> seen;
  cs.watch([] { return kNow; },
           [&](const std::string& key, CertificateStore::Applied applied) {
             seen.emplace_back(key, applied);
           });
  // As a peer's sync would write them: plain documents in the collections.
  auto cert = cert_for(a, authority, "node-a");
  ASSERT_TRUE(
      docs->put_json("certificates:" + hex(a), {{"cert_data", to_base64(*cert.encode())}}, kNow)
          .ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].second, CertificateStore::Applied::kCertificateAdded);
  EXPECT_TRUE(live.validate_peer(a.public_key_bytes(), kNow).ok());

  // An unsigned revocation changes nothing; a signed one removes the live certificate.
  ASSERT_TRUE(docs->put_json("revocations:" + hex(a), {{"reason", "x"}}, kNow).ok());
  EXPECT_EQ(seen.back().second, CertificateStore::Applied::kSkipped);
  EXPECT_TRUE(live.validate_peer(a.public_key_bytes(), kNow).ok());
  auto rev = security::Revocation::create(authority, a.public_key_bytes(), "stolen", kNow);
  ASSERT_TRUE(docs->put_json("revocations:" + hex(a),
                             {{"revocation_data", to_base64(*rev->encode())}}, kNow)
                  .ok());
  EXPECT_EQ(seen.back().second, CertificateStore::Applied::kRevocationAdded);
  EXPECT_EQ(live.get_certificate(a.public_key_bytes()), nullptr);
  auto v = live.validate_peer(a.public_key_bytes(), kNow);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, "CERTIFICATE_REVOKED");

  // Other collections are not watched; after unwatch nothing more arrives.
  auto before = seen.size();
  ASSERT_TRUE(docs->put_json("notes:1", {{"a", 1}}, kNow).ok());
  cs.unwatch();
  ASSERT_TRUE(docs->put_json("certificates:" + hex(b),
                             {{"cert_data", to_base64(*cert_for(b, authority, "b").encode())}},
                             kNow)
                  .ok());
  EXPECT_EQ(seen.size(), before);
}

}  // namespace
}  // namespace peat::mesh
