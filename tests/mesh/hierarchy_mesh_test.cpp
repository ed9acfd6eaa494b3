// The hierarchy (docs/node.md "Hierarchy"): the parent announcement's bytes, MeshConfig::parent,
// and four in-process meshes on loopback QUIC, all connected to all by static discovery, whose
// sync follows the tree they announce: UpOnly data goes up, DownOnly down, the rest everywhere.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "peat/broker/backend.hpp"
#include "peat/common/random.hpp"
#include "peat/mesh/hierarchy.hpp"
#include "peat/mesh/peat_mesh.hpp"

namespace peat::mesh {
namespace {

namespace fs = std::filesystem;

const char* kSecret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

// ---- the announcement's bytes ----------------------------------------------------------------

TEST(HierarchyAnnouncement, EncodesTheDocumentedBytes) {
  EXPECT_EQ(encode_parent_announcement({std::string("hq"), true}),
            (Bytes{'P', 'T', 'A', '1', 0x01, 0x02, 'h', 'q'}));
  EXPECT_EQ(encode_parent_announcement({std::nullopt, false}),
            (Bytes{'P', 'T', 'A', '1', 0x00, 0x00}));
}

TEST(HierarchyAnnouncement, RoundTrips) {
  for (const ParentAnnouncement& a :
       {ParentAnnouncement{std::nullopt, false}, ParentAnnouncement{std::nullopt, true},
        ParentAnnouncement{std::string("node-1.a_b"), false},
        ParentAnnouncement{std::string(63, 'x'), true}}) {
    auto wire = encode_parent_announcement(a);
    EXPECT_TRUE(is_parent_announcement(wire));
    auto back = decode_parent_announcement(wire);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(*back, a);
  }
}

TEST(HierarchyAnnouncement, RejectsBadInputWithAClearError) {
  auto rejected = [](const Bytes& b, const std::string& why) {
    auto r = decode_parent_announcement(b);
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.error().code, "SERIALIZATION_ERROR") << why;
    EXPECT_EQ(r.error().message.rfind("parent announcement: ", 0), 0u) << r.error().message;
  };
  rejected({}, "empty");
  rejected(bytes_of("PCG1\x01"), "the certificate gate's tag");
  rejected(bytes_of("PTA1"), "no flags");
  rejected(bytes_of("PTA1\x00"), "no length");
  rejected(Bytes{'P', 'T', 'A', '1', 0x02, 0x00}, "unknown flag");
  rejected(Bytes{'P', 'T', 'A', '1', 0x80, 0x00}, "unknown flag");
  rejected(Bytes{'P', 'T', 'A', '1', 0x00, 0x03, 'a', 'b'}, "short parent");
  rejected(Bytes{'P', 'T', 'A', '1', 0x00, 0x01, 'a', 'b'}, "trailing byte");
  rejected(Bytes{'P', 'T', 'A', '1', 0x00, 0x02, 'a', ' '}, "space in the id");
  rejected(Bytes{'P', 'T', 'A', '1', 0x00, 0x01, 0x00}, "NUL in the id");
  Bytes long_id{'P', 'T', 'A', '1', 0x00, 64};
  long_id.insert(long_id.end(), 64, 'x');
  rejected(long_id, "64-character id");
  // Every truncation of a valid message, and random bytes after the tag: an error, never a crash.
  auto wire = encode_parent_announcement({std::string("parent-node"), true});
  for (std::size_t n = 0; n < wire.size(); ++n)
    rejected(Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(n)), "truncated");
  SeededRng rng(7);
  for (int i = 0; i < 2000; ++i) {
    Bytes b = bytes_of("PTA1");
    std::array<std::uint8_t, 80> tail{};
    rng.fill(tail);
    b.insert(b.end(), tail.begin(), tail.begin() + (tail[0] % 80));
    auto r = decode_parent_announcement(b);
    if (r.ok()) {
      EXPECT_EQ(encode_parent_announcement(*r), b);  // only canonical messages decode
    }
  }
}

TEST(HierarchyConfig, ParentIsValidatedLikeANodeId) {
  MeshConfig c;
  c.parent = "hq-1";
  EXPECT_TRUE(c.validate().ok());
  for (const char* bad : {"", "has space", "a/b", "x\n"}) {
    c.parent = bad;
    auto st = c.validate();
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().code, "INVALID_CONFIG");
    EXPECT_NE(st.error().message.find("parent"), std::string::npos);
  }
  c.parent = std::string(64, 'p');
  EXPECT_FALSE(c.validate().ok());
  c.node_id = "me";
  c.parent = "me";
  auto st = c.validate();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("itself"), std::string::npos);
}

// ---- four meshes on loopback ------------------------------------------------------------------

// A UDP port that was free a moment ago (the kernel picks it), for the static peer files.
std::uint16_t free_udp_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// Polls `pred` every 50 ms for at most `limit`.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(15000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

struct HierarchyMesh : ::testing::Test {
  fs::path dir;
  std::vector<std::string> ids{"hq", "mid", "leaf-c", "leaf-d"};
  std::map<std::string, std::unique_ptr<PeatMesh>> nodes;

  void SetUp() override {
    char tmpl[] = "/tmp/peat_hierarchy_test_XXXXXX";
    dir = mkdtemp(tmpl);
  }
  void TearDown() override {
    for (auto& [id, m] : nodes)
      if (m) (void)m->stop();
    nodes.clear();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  // Starts the four nodes, all listing all; `parents` maps a node id to its parent's.
  void start(const std::map<std::string, std::string>& parents) {
    std::map<std::string, std::uint16_t> ports;
    for (const auto& id : ids) ports[id] = free_udp_port();
    for (const auto& id : ids) {
      ASSERT_NE(ports[id], 0);
      fs::path peers = dir / (id + ".toml");
      std::ofstream out(peers);
      for (const auto& other : ids) {
        if (other == id) continue;
        out << "[[peers]]\nnode_id = \"" << other << "\"\naddresses = [\"127.0.0.1:" << ports[other]
            << "\"]\n";
      }
      out.close();
      MeshConfig c;
      c.node_id = id;
      c.formation_secret = kSecret;
      c.quic_bind_host = "127.0.0.1";
      c.quic_port = ports[id];
      c.discovery_mode = DiscoveryMode::kStatic;
      c.static_peers_file = peers;
      c.reconnect_interval = std::chrono::milliseconds(200);
      c.drain_timeout = std::chrono::milliseconds(0);
      c.data_dir = dir / id;
      c.lite_port.reset();
      if (auto it = parents.find(id); it != parents.end()) c.parent = it->second;
      auto built = PeatMeshBuilder().with_config(std::move(c)).build();
      ASSERT_TRUE(built.ok()) << built.error().to_string();
      nodes[id] = std::move(built.value());
    }
    for (const auto& id : ids) ASSERT_TRUE(nodes[id]->start().ok()) << id;
    ASSERT_TRUE(eventually([&] {
      for (const auto& id : ids) {
        std::size_t connected = 0;
        for (const auto& p : nodes[id]->peers()) connected += p.connected ? 1 : 0;
        if (connected != ids.size() - 1) return false;
      }
      return true;
    })) << "the four nodes did not all connect";
  }

  PeatMesh& node(const std::string& id) { return *nodes.at(id); }

  HierarchyView view(const std::string& id) {
    auto v = node(id).hierarchy();
    return v.ok() ? *v : HierarchyView{};
  }

  bool has(const std::string& id, const std::string& collection, const std::string& doc) {
    auto d = node(id).get_document(collection, doc);
    return d.ok() && d->has_value();
  }

  // Waits until every listed node holds the document.
  bool reaches(const std::vector<std::string>& where, const std::string& collection,
               const std::string& doc) {
    return eventually([&] {
      for (const auto& id : where)
        if (!has(id, collection, doc)) return false;
      return true;
    });
  }

  // A Bidirectional document written on each node after everything else reached every node:
  // every link has carried what was sent before it.
  bool links_flushed(const std::string& tag) {
    for (const auto& id : ids)
      if (!node(id).put_document("notes", tag + "-" + id, R"({"flush":true})").ok()) return false;
    for (const auto& id : ids)
      if (!reaches(ids, "notes", tag + "-" + id)) return false;
    return true;
  }
};

TEST_F(HierarchyMesh, SyncFollowsTheAnnouncedTree) {
  start({{"mid", "hq"}, {"leaf-c", "mid"}, {"leaf-d", "mid"}});
  if (!node("hq").status().sync_enabled) GTEST_SKIP() << "no sync engine in this build";
  ASSERT_TRUE(eventually([&] {
    auto hq = view("hq"), mid = view("mid"), c = view("leaf-c"), d = view("leaf-d");
    return hq.role == "root" && hq.children == std::vector<std::string>{"mid"} &&
           mid.role == "member" && mid.parent_connected &&
           mid.children == std::vector<std::string>{"leaf-c", "leaf-d"} && c.role == "leaf" &&
           c.parent_connected && c.children.empty() && d.role == "leaf" && d.parent_connected &&
           d.children.empty();
  })) << "roles: "
      << view("hq").role << " " << view("mid").role << " " << view("leaf-c").role << " "
      << view("leaf-d").role;

  // The broker reports role and parent.
  auto t = node("mid").broker_backend().topology();
  EXPECT_EQ(t.role, "member");
  EXPECT_EQ(t.peer_count, 3u);
  EXPECT_EQ(node("mid").broker_backend().topology_parent(), std::optional<std::string>("hq"));
  EXPECT_EQ(node("hq").broker_backend().topology().role, "root");
  EXPECT_FALSE(node("hq").broker_backend().topology_parent());
  EXPECT_EQ(node("leaf-d").broker_backend().topology().role, "leaf");

  // UpOnly: a contact report from a leaf reaches its parent and the root, not its sibling.
  ASSERT_TRUE(node("leaf-c").put_document("contact_reports", "r1", R"({"contact":"c"})").ok());
  EXPECT_TRUE(reaches({"mid", "hq"}, "contact_reports", "r1"));
  // DownOnly: a command from the root reaches every node below it.
  ASSERT_TRUE(node("hq").put_document("commands", "k1", R"({"order":"hold"})").ok());
  EXPECT_TRUE(reaches({"mid", "leaf-c", "leaf-d"}, "commands", "k1"));
  // DownOnly written at a leaf has nobody below it.
  ASSERT_TRUE(node("leaf-d").put_document("commands", "k-up", R"({"order":"x"})").ok());
  // Bidirectional: everyone.
  ASSERT_TRUE(node("leaf-d").put_document("notes", "n1", R"({"x":1})").ok());
  EXPECT_TRUE(reaches(ids, "notes", "n1"));

  ASSERT_TRUE(links_flushed("flush1"));
  EXPECT_FALSE(has("leaf-d", "contact_reports", "r1"));
  for (const auto& id : {"hq", "mid", "leaf-c"}) EXPECT_FALSE(has(id, "commands", "k-up")) << id;

  // A child that leaves is no longer a child; the others keep their places.
  ASSERT_TRUE(node("leaf-d").stop().ok());
  EXPECT_TRUE(
      eventually([&] { return view("mid").children == std::vector<std::string>{"leaf-c"}; }));
  EXPECT_EQ(view("mid").role, "member");
  // Back again, it announces itself anew: a command issued meanwhile reaches it, and its own
  // report goes up, still not to its sibling.
  ASSERT_TRUE(node("hq").put_document("commands", "k2", R"({"order":"move"})").ok());
  ASSERT_TRUE(node("leaf-d").start().ok());
  EXPECT_TRUE(eventually([&] {
    return view("mid").children == std::vector<std::string>{"leaf-c", "leaf-d"} &&
           view("leaf-d").parent_connected;
  }));
  EXPECT_TRUE(reaches({"leaf-d"}, "commands", "k2"));
  ASSERT_TRUE(node("leaf-d").put_document("contact_reports", "r2", R"({"contact":"d"})").ok());
  EXPECT_TRUE(reaches({"mid", "hq"}, "contact_reports", "r2"));
  ASSERT_TRUE(links_flushed("flush2"));
  EXPECT_FALSE(has("leaf-c", "contact_reports", "r2"));
  EXPECT_FALSE(has("leaf-d", "contact_reports", "r1"));
}

TEST_F(HierarchyMesh, WithoutParentsEverythingReachesEveryone) {
  start({});
  if (!node("hq").status().sync_enabled) GTEST_SKIP() << "no sync engine in this build";
  for (const auto& id : ids) {
    auto v = view(id);
    EXPECT_FALSE(v.active) << id;
    EXPECT_EQ(v.role, "peer") << id;
    EXPECT_FALSE(node(id).broker_backend().topology_parent()) << id;
  }
  ASSERT_TRUE(node("leaf-c").put_document("contact_reports", "r1", R"({"contact":"c"})").ok());
  ASSERT_TRUE(node("leaf-d").put_document("commands", "k1", R"({"order":"hold"})").ok());
  ASSERT_TRUE(node("hq").put_document("notes", "n1", R"({"x":1})").ok());
  EXPECT_TRUE(reaches(ids, "contact_reports", "r1"));
  EXPECT_TRUE(reaches(ids, "commands", "k1"));
  EXPECT_TRUE(reaches(ids, "notes", "n1"));
  // Still flat after the announcements went round.
  for (const auto& id : ids) EXPECT_FALSE(view(id).active) << id;
}

}  // namespace
}  // namespace peat::mesh
