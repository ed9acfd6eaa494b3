// Certificates through the PeatMesh facade: real meshes over loopback QUIC with static
// discovery and LMDB stores in temporary folders. Layer-2 gating (required / warn-and-allow),
// a freshly enrolled node admitted by a peer that never saw its certificate, and a revocation
// that syncs in and cuts the revoked peer off.
#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <unistd.h>

#include "peat/mesh/enrollment_service.hpp"
#include "peat/mesh/peat_mesh.hpp"
#include "peat/security/node_identity.hpp"
#include "support/scratch_dir.hpp"

namespace peat::mesh {
namespace {

namespace fs = std::filesystem;

const char* kSecret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

Bytes seed() {
  return *from_base64(kSecret);
}

using TempDir = peat::test::ScratchDir;

struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<MeshEvent> events;
  EventCallback callback() {
    return [this](const MeshEvent& e) {
      std::lock_guard lock(mu);
      events.push_back(e);
      cv.notify_all();
    };
  }
  template <typename Pred>
  bool wait_for(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [&] { return pred(events); });
  }
  std::size_t count_joined(const std::string& who) {
    std::lock_guard lock(mu);
    std::size_t n = 0;
    for (const auto& e : events)
      if (auto* j = std::get_if<PeerJoined>(&e); j && j->peer == who) ++n;
    return n;
  }
};

auto joined(const std::string& who) {
  return [who](const std::vector<MeshEvent>& evs) {
    for (const auto& e : evs)
      if (auto* j = std::get_if<PeerJoined>(&e); j && j->peer == who) return true;
    return false;
  };
}

auto left(const std::string& who) {
  return [who](const std::vector<MeshEvent>& evs) {
    for (const auto& e : evs)
      if (auto* l = std::get_if<PeerLeft>(&e); l && l->peer == who) return true;
    return false;
  };
}

std::string authority_hex() {
  return security::node_authority_keypair(seed()).public_key().to_hex();
}

// A certificate from the formation's authority for the QUIC key of node `id`, as a file.
fs::path certificate_file(const fs::path& dir, const std::string& id) {
  auto authority = security::node_authority_keypair(seed());
  auto key = security::node_endpoint_keypair(seed(), id);
  auto now = SystemClock().unix_millis();
  auto cert = security::MeshCertificate::issue(
      authority, key.public_key_bytes(), "peat", id, security::MeshTier::Tactical,
      security::permissions::kStandard, now - 1000, now + 3600 * 1000);
  auto wire = *cert->encode();
  fs::path file = dir / (id + ".cert");
  std::ofstream(file, std::ios::binary)
      .write(reinterpret_cast<const char*>(wire.data()), static_cast<std::streamsize>(wire.size()));
  return file;
}

struct MeshFixture : ::testing::Test {
  TempDir dir;
  std::uint16_t base = 0;
  void SetUp() override {
    // Ports from the pid (16 per process: tests run as separate, often consecutive, processes).
    base = static_cast<std::uint16_t>(20000 + (getpid() % 500) * 16);
  }
  void peers_file(const std::string& file,
                  const std::vector<std::pair<std::string, std::uint16_t>>& peers) {
    std::ofstream out(dir.path / file);
    for (const auto& [id, port] : peers)
      out << "[[peers]]\nnode_id = \"" << id << "\"\naddresses = [\"127.0.0.1:" << port << "\"]\n";
  }
  MeshConfig config(const std::string& id, std::uint16_t port, const std::string& peers) {
    MeshConfig c;
    c.node_id = id;
    c.formation_secret = kSecret;
    c.quic_bind_host = "127.0.0.1";
    c.quic_port = port;
    c.discovery_mode = peers.empty() ? DiscoveryMode::kNone : DiscoveryMode::kStatic;
    if (!peers.empty()) c.static_peers_file = dir.path / peers;
    c.reconnect_interval = std::chrono::milliseconds(200);
    c.drain_timeout = std::chrono::milliseconds(0);
    c.data_dir = dir.path / id;
    return c;
  }
  std::unique_ptr<PeatMesh> make(MeshConfig c) {
    auto built = PeatMeshBuilder().with_config(std::move(c)).build();
    EXPECT_TRUE(built.ok()) << (built.ok() ? "" : built.error().to_string());
    return built.ok() ? std::move(built.value()) : nullptr;
  }
  static bool arrives(PeatMesh& m, const std::string& collection, const std::string& id) {
    for (int i = 0; i < 100; ++i) {
      auto d = m.get_document(collection, id);
      if (d.ok() && d->has_value()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
};

TEST_F(MeshFixture, RequiredRefusesAPeerWithoutACertificate) {
  peers_file("a.toml", {{"gate-b", base + 1}});
  peers_file("b.toml", {{"gate-a", base}});
  auto ca = config("gate-a", base, "a.toml");
  ca.authority_key = authority_hex();
  ca.require_certificates = true;
  ca.certificate_file = certificate_file(dir.path, "gate-a");
  auto cb = config("gate-b", static_cast<std::uint16_t>(base + 1), "b.toml");  // no certificate
  Recorder ra;
  auto a = make(ca);
  auto b = make(cb);
  a->subscribe(ra.callback());
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(b->start().ok());
  ASSERT_TRUE(b->put_document("notes", "from-b", R"({"x":1})").ok());
  // Past the 5 s presentation window B (which presents nothing) was never admitted, and
  // nothing B wrote reached A.
  EXPECT_FALSE(ra.wait_for(joined("gate-b"), std::chrono::milliseconds(3000)));
  EXPECT_FALSE(a->get_document("notes", "from-b")->has_value());
  for (const auto& p : a->peers()) EXPECT_FALSE(p.connected) << p.node_id;
  ASSERT_TRUE(b->stop().ok());
  ASSERT_TRUE(a->stop().ok());
}

TEST_F(MeshFixture, ARefusedPeerIsToldWhyAndLeaves) {
  // B gates too (not required) but has no certificate: it presents an empty one, A refuses it at
  // once and says why; B, which had admitted A (A's certificate is valid), closes and reports
  // A as left.
  peers_file("a.toml", {{"told-b", base + 13}});
  peers_file("b.toml", {{"told-a", base + 12}});
  auto ca = config("told-a", static_cast<std::uint16_t>(base + 12), "a.toml");
  ca.authority_key = authority_hex();
  ca.require_certificates = true;
  ca.certificate_file = certificate_file(dir.path, "told-a");
  auto cb = config("told-b", static_cast<std::uint16_t>(base + 13), "b.toml");
  cb.authority_key = authority_hex();
  Recorder ra, rb;
  auto a = make(ca);
  auto b = make(cb);
  a->subscribe(ra.callback());
  b->subscribe(rb.callback());
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(b->start().ok());
  ASSERT_TRUE(rb.wait_for(joined("told-a")));
  ASSERT_TRUE(rb.wait_for(left("told-a")));
  EXPECT_EQ(ra.count_joined("told-b"), 0u);
}

TEST_F(MeshFixture, NotRequiredWarnsAndAllows) {
  peers_file("a.toml", {{"warn-b", base + 3}});
  peers_file("b.toml", {{"warn-a", base + 2}});
  auto ca = config("warn-a", static_cast<std::uint16_t>(base + 2), "a.toml");
  ca.authority_key = authority_hex();  // gating on, not required
  auto cb = config("warn-b", static_cast<std::uint16_t>(base + 3), "b.toml");
  Recorder ra;
  auto a = make(ca);
  auto b = make(cb);
  a->subscribe(ra.callback());
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(b->start().ok());
  ASSERT_TRUE(ra.wait_for(joined("warn-b")));
  if (a->status().sync_enabled) {
    ASSERT_TRUE(b->put_document("notes", "n", R"({"x":1})").ok());
    EXPECT_TRUE(arrives(*a, "notes", "n"));
  }
}

TEST_F(MeshFixture, CertifiedPeersAreAdmittedAndSync) {
  peers_file("a.toml", {{"cert-b", base + 5}});
  peers_file("b.toml", {{"cert-a", base + 4}});
  auto ca = config("cert-a", static_cast<std::uint16_t>(base + 4), "a.toml");
  auto cb = config("cert-b", static_cast<std::uint16_t>(base + 5), "b.toml");
  for (auto* c : {&ca, &cb}) {
    c->authority_key = authority_hex();
    c->require_certificates = true;
    c->certificate_file = certificate_file(dir.path, *c->node_id);
  }
  Recorder ra, rb;
  auto a = make(ca);
  auto b = make(cb);
  a->subscribe(ra.callback());
  b->subscribe(rb.callback());
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(b->start().ok());
  ASSERT_TRUE(ra.wait_for(joined("cert-b")));
  ASSERT_TRUE(rb.wait_for(joined("cert-a")));
  if (a->status().sync_enabled) {
    ASSERT_TRUE(a->put_document("notes", "n1", R"({"x":1})").ok());
    EXPECT_TRUE(arrives(*b, "notes", "n1"));
    // Both certificates came from files, not from a store: admission came from the
    // certificates each node presented on connect.
  }
}

// A node that serves no enrollment refuses peat/enroll/1 even from a member's key, at once and
// saying so, and the member's link stays. (Before, the gate admitted the member's key and the
// connection was taken as a second member link; the client waited for an answer until its
// timeout.)
TEST_F(MeshFixture, EnrollingAtANodeWithoutTokensIsRefusedAndTheMemberLinkStays) {
  peers_file("p.toml", {{"plain-q", base + 15}});
  peers_file("q.toml", {{"plain-p", base + 14}});
  auto cp = config("plain-p", static_cast<std::uint16_t>(base + 14), "p.toml");
  auto cq = config("plain-q", static_cast<std::uint16_t>(base + 15), "q.toml");
  Recorder rp;
  auto p = make(cp);
  auto q = make(cq);
  p->subscribe(rp.callback());
  ASSERT_TRUE(p->start().ok());
  ASSERT_TRUE(q->start().ok());
  ASSERT_TRUE(rp.wait_for(joined("plain-q")));
  auto q_key = security::node_endpoint_keypair(seed(), "plain-q");
  EnrollClientOptions o;
  o.server_host = "127.0.0.1";
  o.server_port = static_cast<std::uint16_t>(base + 14);
  o.server_id = p->endpoint_id();
  o.identity = &q_key;
  o.node_id = "plain-q";
  o.token = to_bytes("no-such-token");
  o.timeout = std::chrono::milliseconds(5000);
  auto refused = enroll(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "TRANSPORT");
  EXPECT_NE(refused.error().message.find("not admitted"), std::string::npos)
      << refused.error().to_string();
  EXPECT_FALSE(rp.wait_for(left("plain-q"), std::chrono::milliseconds(500)));
}

TEST_F(MeshFixture, AFreshlyEnrolledNodeIsAdmittedByAPeerThatNeverSawItsCertificate) {
  // E: enrollment server (no peers). C: a certified member requiring certificates. N: a new
  // node that enrolls with E over QUIC on E's QUIC port (shared with its member links, as in
  // Rust), then joins C with the certificate it got.
  const auto enroll_port = static_cast<std::uint16_t>(base + 6);
  auto ce = config("enroll-e", enroll_port, "");
  ce.enrollment_tokens = "join-me=regional";
  ce.authority_key = authority_hex();
  ce.require_certificates = true;
  auto e = make(ce);
  ASSERT_TRUE(e->start().ok());

  auto n_key = security::node_endpoint_keypair(seed(), "new-n");
  EnrollClientOptions o;
  o.server_host = "127.0.0.1";
  o.server_port = enroll_port;
  o.server_id = e->endpoint_id();
  o.identity = &n_key;
  o.node_id = "new-n";
  o.token = to_bytes("join-me");
  o.authority = security::node_authority_keypair(seed()).public_key_bytes();
  auto cert = enroll(o);
  ASSERT_TRUE(cert.ok()) << cert.error().to_string();
  EXPECT_EQ(cert->subject_public_key, n_key.public_key_bytes());
  // E wrote it to its certificates collection (it syncs to E's peers from there).
  auto stored = e->get_document("certificates", n_key.public_key().to_hex());
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_NE((*stored)->find("\"node_id\":\"new-n\""), std::string::npos) << **stored;
  auto wire = *cert->encode();
  fs::path n_cert = dir.path / "new-n.cert";
  std::ofstream(n_cert, std::ios::binary)
      .write(reinterpret_cast<const char*>(wire.data()), static_cast<std::streamsize>(wire.size()));

  peers_file("c.toml", {{"new-n", base + 9}});
  peers_file("n.toml", {{"member-c", base + 8}});
  auto cc = config("member-c", static_cast<std::uint16_t>(base + 8), "c.toml");
  cc.authority_key = authority_hex();
  cc.require_certificates = true;
  cc.certificate_file = certificate_file(dir.path, "member-c");
  auto cn = config("new-n", static_cast<std::uint16_t>(base + 9), "n.toml");
  cn.authority_key = authority_hex();
  cn.require_certificates = true;
  cn.certificate_file = n_cert;
  Recorder rc;
  auto c = make(cc);
  auto n = make(cn);
  c->subscribe(rc.callback());
  ASSERT_TRUE(c->start().ok());
  ASSERT_TRUE(n->start().ok());
  ASSERT_TRUE(rc.wait_for(joined("new-n")));
  // Admitted through the presented certificate: C's store never held it.
  EXPECT_FALSE(c->get_document("certificates", n_key.public_key().to_hex())->has_value());
  // A second enrollment with the same (one-time) token is denied.
  auto again = enroll(o);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "ENROLLMENT_DENIED");
}

TEST_F(MeshFixture, ARevokedPeerIsRefusedOnceTheRevocationSyncs) {
  peers_file("a.toml", {{"rev-b", base + 11}});
  peers_file("b.toml", {{"rev-a", base + 10}});
  auto ca = config("rev-a", static_cast<std::uint16_t>(base + 10), "a.toml");
  auto cb = config("rev-b", static_cast<std::uint16_t>(base + 11), "b.toml");
  for (auto* c : {&ca, &cb}) {
    c->authority_key = authority_hex();
    c->require_certificates = true;
    c->certificate_file = certificate_file(dir.path, *c->node_id);
  }
  Recorder ra;
  auto a = make(ca);
  auto b = make(cb);
  a->subscribe(ra.callback());
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(b->start().ok());
  ASSERT_TRUE(ra.wait_for(joined("rev-b")));
  if (!a->status().sync_enabled) GTEST_SKIP() << "no sync engine in this build";
  // The operator writes a revocation of B (signed by the authority) on B's node, as it would
  // through B's broker; it reaches A by sync, and A cuts B off.
  auto b_key = security::node_endpoint_keypair(seed(), "rev-b");
  auto rev = security::Revocation::create(security::node_authority_keypair(seed()),
                                          b_key.public_key_bytes(), "device lost",
                                          SystemClock().unix_millis());
  std::string doc = R"({"subject":")" + b_key.public_key().to_hex() +
                    R"(","reason":"device lost","revocation_data":")" + to_base64(*rev->encode()) +
                    R"("})";
  ASSERT_TRUE(b->put_document("revocations", b_key.public_key().to_hex(), doc).ok());
  ASSERT_TRUE(arrives(*a, "revocations", b_key.public_key().to_hex()));
  ASSERT_TRUE(ra.wait_for(left("rev-b")));
  // B dials again (every 200 ms) and is refused each time: no second admission.
  EXPECT_FALSE(ra.wait_for(
      [](const std::vector<MeshEvent>& evs) {
        std::size_t n = 0;
        for (const auto& ev : evs)
          if (auto* j = std::get_if<PeerJoined>(&ev); j && j->peer == "rev-b") ++n;
        return n >= 2;
      },
      std::chrono::milliseconds(1500)));
  EXPECT_EQ(ra.count_joined("rev-b"), 1u);
}

}  // namespace
}  // namespace peat::mesh
