// PeatMesh facade: configuration validation, the lifecycle state machine, events, documents,
// the broker backend, and two meshes meeting over loopback QUIC with static discovery.
#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include "peat/broker/backend.hpp"
#include "peat/mesh/peat_mesh.hpp"
#include "peat/store/document_store.hpp"
#include "support/scratch_dir.hpp"

namespace peat::mesh {
namespace {

namespace fs = std::filesystem;

// A fresh temporary folder, removed at the end of the test.
using TempDir = peat::test::ScratchDir;

// Records events; waits (bounded) for a predicate over them.
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
  std::vector<MeshEvent> snapshot() {
    std::lock_guard lock(mu);
    return events;
  }
  std::vector<MeshState> states() {
    std::lock_guard lock(mu);
    std::vector<MeshState> out;
    for (const auto& e : events)
      if (auto* s = std::get_if<StateChanged>(&e)) out.push_back(s->state);
    return out;
  }
  template <typename Pred>
  bool wait_for(Pred pred, std::chrono::seconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [&] { return pred(events); });
  }
};

const char* kSecret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

std::unique_ptr<PeatMesh> make_mesh(MeshConfig config) {
  config.drain_timeout = std::chrono::milliseconds(0);
  auto built = PeatMeshBuilder().with_config(std::move(config)).build();
  EXPECT_TRUE(built.ok()) << (built.ok() ? "" : built.error().to_string());
  return built.ok() ? std::move(built.value()) : nullptr;
}

TEST(MeshConfigTest, DefaultsMatchRust) {
  MeshConfig c;
  EXPECT_FALSE(c.node_id);
  EXPECT_TRUE(c.discovery.mdns_enabled);
  EXPECT_EQ(c.discovery.service_name, "peat-mesh");
  EXPECT_EQ(c.discovery.interval, std::chrono::seconds(30));
  EXPECT_TRUE(c.security.encryption_enabled);
  EXPECT_FALSE(c.security.require_peer_verification);
  EXPECT_EQ(c.iroh.bind_timeout, std::chrono::seconds(10));
  EXPECT_EQ(c.iroh.shutdown_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c.iroh.download_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.quic_port, 11204);
  EXPECT_TRUE(c.validate().ok());
}

TEST(MeshConfigTest, RejectsBadValues) {
  auto invalid = [](MeshConfig c) {
    auto st = c.validate();
    EXPECT_FALSE(st.ok());
    if (!st.ok()) {
      EXPECT_EQ(st.error().code, "INVALID_CONFIG");
      EXPECT_EQ(st.error().message.rfind("invalid configuration: ", 0), 0u);
    }
  };
  MeshConfig c;
  c.node_id = "has space";
  invalid(c);
  c = {};
  c.node_id = "";
  invalid(c);
  c = {};
  c.formation_secret = "not base64!";
  invalid(c);
  c = {};
  c.discovery_mode = DiscoveryMode::kMdns;  // no secret
  invalid(c);
  c = {};
  c.formation_secret = kSecret;
  c.discovery_mode = DiscoveryMode::kStatic;  // no peers file
  invalid(c);
  c = {};
  c.iroh.secret_key = std::vector<std::uint8_t>(31, 1);
  invalid(c);
  c = {};
  c.iroh.bind_addr = "localhost:5000";
  invalid(c);
  c = {};
  c.quic_bind_host = "example.com";
  invalid(c);
  c = {};
  c.broker_token = "";
  invalid(c);
  c = {};
  c.operation_timeout = std::chrono::milliseconds(0);
  invalid(c);
}

TEST(MeshConfigTest, DiscoveryModes) {
  EXPECT_EQ(*parse_discovery_mode("k8s"), DiscoveryMode::kKubernetes);
  EXPECT_EQ(*parse_discovery_mode("kubernetes"), DiscoveryMode::kKubernetes);
  EXPECT_EQ(*parse_discovery_mode("mdns"), DiscoveryMode::kMdns);
  EXPECT_EQ(*parse_discovery_mode("static"), DiscoveryMode::kStatic);
  auto bad = parse_discovery_mode("MDNS");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("Unknown PEAT_DISCOVERY mode"), std::string::npos);
}

TEST(MeshBuilderTest, GeneratesUuidNodeId) {
  auto a = make_mesh({});
  auto b = make_mesh({});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->node_id().size(), 36u);
  EXPECT_EQ(std::count(a->node_id().begin(), a->node_id().end(), '-'), 4);
  EXPECT_EQ(a->node_id()[14], '4');
  EXPECT_NE(a->node_id(), b->node_id());
  EXPECT_EQ(a->endpoint_id(), "");  // no formation secret: no QUIC identity
}

TEST(MeshBuilderTest, IdentityFollowsSecretAndNodeId) {
  MeshConfig c;
  c.node_id = "node-a";
  c.formation_secret = kSecret;
  auto a1 = make_mesh(c);
  auto a2 = make_mesh(c);
  c.node_id = "node-b";
  auto b = make_mesh(c);
  ASSERT_TRUE(a1 && a2 && b);
  EXPECT_EQ(a1->device_id(), a2->device_id());
  EXPECT_EQ(a1->endpoint_id(), a2->endpoint_id());
  EXPECT_NE(a1->device_id(), b->device_id());
  EXPECT_NE(a1->endpoint_id(), a1->device_id());  // different HKDF contexts
}

TEST(MeshBuilderTest, SeedErrors) {
  auto r = PeatMeshBuilder().with_device_keypair_from_seed({}, "ctx").build();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "INVALID_CONFIG");
  std::vector<std::uint8_t> short_seed(5, 1);
  r = PeatMeshBuilder().with_device_seed(short_seed).build();
  ASSERT_FALSE(r.ok());
  std::vector<std::uint8_t> seed(32, 7);
  auto m1 = PeatMeshBuilder().with_device_seed(seed).build();
  auto m2 = PeatMeshBuilder().with_device_seed(seed).build();
  ASSERT_TRUE(m1.ok() && m2.ok());
  EXPECT_EQ((*m1)->device_id(), (*m2)->device_id());
}

TEST(MeshLifecycleTest, StateMachineAndEvents) {
  Recorder rec;  // declared first: outlives the mesh, whose destructor emits events
  auto mesh = make_mesh({});
  ASSERT_TRUE(mesh);
  mesh->subscribe(rec.callback());
  EXPECT_EQ(mesh->state(), MeshState::kCreated);
  EXPECT_EQ(mesh->status().uptime.count(), 0);

  auto st = mesh->stop();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "mesh is not running");

  ASSERT_TRUE(mesh->start().ok());
  EXPECT_EQ(mesh->state(), MeshState::kRunning);
  st = mesh->start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "ALREADY_RUNNING");
  EXPECT_EQ(st.error().message, "mesh is already running");

  ASSERT_TRUE(mesh->stop().ok());
  EXPECT_EQ(mesh->state(), MeshState::kStopped);
  ASSERT_TRUE(mesh->start().ok());  // restart after stop
  ASSERT_TRUE(mesh->stop().ok());

  std::vector<MeshState> expected{MeshState::kStarting, MeshState::kRunning, MeshState::kStopping,
                                  MeshState::kStopped};
  auto states = rec.states();
  ASSERT_EQ(states.size(), 8u);
  EXPECT_EQ(std::vector<MeshState>(states.begin(), states.begin() + 4), expected);
  EXPECT_EQ(std::vector<MeshState>(states.begin() + 4, states.end()), expected);

  // Topology events: standalone after start, stopped at stop.
  std::vector<std::string> roles;
  for (const auto& e : rec.snapshot())
    if (auto* t = std::get_if<TopologyChanged>(&e)) roles.push_back(t->role);
  EXPECT_EQ(roles, (std::vector<std::string>{"standalone", "stopped", "standalone", "stopped"}));
}

TEST(MeshLifecycleTest, EveryEventReachesEverySubscriber) {
  Recorder a, b, gone;
  auto mesh = make_mesh({});
  mesh->subscribe(a.callback());
  mesh->subscribe(b.callback());
  auto id = mesh->subscribe(gone.callback());
  mesh->unsubscribe(id);
  ASSERT_TRUE(mesh->start().ok());
  ASSERT_TRUE(mesh->stop().ok());
  EXPECT_EQ(a.states().size(), 4u);
  EXPECT_EQ(b.states().size(), 4u);
  EXPECT_TRUE(gone.states().empty());
}

TEST(MeshLifecycleTest, CallsNeedARunningMesh) {
  TempDir dir;
  MeshConfig c;
  c.data_dir = dir.path;
  auto mesh = make_mesh(c);
  auto st = mesh->put_document("a", "b", "{}");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "NOT_RUNNING");
  EXPECT_TRUE(mesh->peers().empty());
}

TEST(MeshLifecycleTest, StartFailureReturnsToStopped) {
  TempDir dir;
  MeshConfig c;
  c.data_dir = dir.path;
  c.broker_port = 0;
  c.broker_bind_host = "127.0.0.1";
  auto first = make_mesh(c);
  ASSERT_TRUE(first->start().ok());
  auto port = first->status().broker_port;
  ASSERT_NE(port, 0);

  TempDir dir2;
  c.data_dir = dir2.path;
  c.broker_port = port;  // taken
  Recorder rec;
  auto second = make_mesh(c);
  second->subscribe(rec.callback());
  auto st = second->start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "BIND_FAILED");
  EXPECT_EQ(second->state(), MeshState::kStopped);
  EXPECT_EQ(rec.states(), (std::vector<MeshState>{MeshState::kStarting, MeshState::kStopped}));
}

TEST(MeshDocumentsTest, CrudQueryAndEvents) {
  TempDir dir;
  MeshConfig c;
  c.data_dir = dir.path;
  Recorder rec;
  auto mesh = make_mesh(c);
  mesh->subscribe(rec.callback());
  ASSERT_TRUE(mesh->start().ok());

  ASSERT_TRUE(mesh->put_document("units", "u1", R"({"name":"alpha","speed":5})").ok());
  ASSERT_TRUE(mesh->put_document("units", "u2", R"({"name":"bravo","speed":9})").ok());
  EXPECT_EQ(mesh->put_document("units", "u3", "[1]").error().code, "BAD_REQUEST");
  EXPECT_EQ(mesh->put_document("units", "a:b", "{}").error().code, "BAD_REQUEST");

  auto got = mesh->get_document("units", "u1");
  ASSERT_TRUE(got.ok() && got->has_value());
  auto j = nlohmann::json::parse(**got);
  EXPECT_EQ(j["name"], "alpha");
  EXPECT_EQ(j["_id"], "u1");

  auto fast = mesh->query_documents(
      "units", R"({"where":[{"field":"speed","op":"gte","value":6}],"limit":10})");
  ASSERT_TRUE(fast.ok());
  ASSERT_EQ(fast->size(), 1u);
  EXPECT_EQ(nlohmann::json::parse((*fast)[0])["_id"], "u2");
  EXPECT_EQ(mesh->query_documents("units", R"({"where":"x"})").error().code, "BAD_REQUEST");
  EXPECT_EQ(mesh->query_documents("units", "nope").error().code, "BAD_REQUEST");

  auto all = mesh->list_documents("units");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);

  EXPECT_TRUE(*mesh->delete_document("units", "u1"));
  EXPECT_FALSE(*mesh->delete_document("units", "u1"));
  EXPECT_FALSE(mesh->get_document("units", "u1")->has_value());

  std::vector<std::pair<std::string, DocumentAction>> changes;
  for (const auto& e : rec.snapshot())
    if (auto* d = std::get_if<DocumentChanged>(&e)) changes.emplace_back(d->id, d->action);
  EXPECT_EQ(changes, (std::vector<std::pair<std::string, DocumentAction>>{
                         {"u1", DocumentAction::kPut},
                         {"u2", DocumentAction::kPut},
                         {"u1", DocumentAction::kDeleted}}));

  // Persisted across a restart.
  ASSERT_TRUE(mesh->stop().ok());
  ASSERT_TRUE(mesh->start().ok());
  EXPECT_TRUE(mesh->get_document("units", "u2")->has_value());
}

TEST(MeshDocumentsTest, NoStoreWithoutDataDir) {
  auto mesh = make_mesh({});
  ASSERT_TRUE(mesh->start().ok());
  EXPECT_EQ(mesh->put_document("a", "b", "{}").error().code, "NO_STORE");
}

TEST(MeshDocumentsTest, CallbacksMayCallTheMesh) {
  TempDir dir;
  MeshConfig c;
  c.data_dir = dir.path;
  std::string seen;
  auto mesh = make_mesh(c);
  mesh->subscribe([&](const MeshEvent& e) {
    if (auto* d = std::get_if<DocumentChanged>(&e)) {
      auto doc = mesh->get_document(d->collection, d->id);  // inline on the network thread
      if (doc.ok() && doc->has_value()) seen = **doc;
      EXPECT_EQ(mesh->stop().error().code, "WRONG_THREAD");
    }
  });
  ASSERT_TRUE(mesh->start().ok());
  ASSERT_TRUE(mesh->put_document("c", "d", R"({"x":1})").ok());
  EXPECT_NE(seen.find("\"x\":1"), std::string::npos);
}

// Tombstones past their TTL (24 h for nodes) are dropped by the mesh's periodic GC; fresh
// ones stay (they still guard against resurrection).
TEST(MeshDocumentsTest, PeriodicGcDropsOnlyExpiredTombstones) {
  TempDir dir;
  const auto store_dir = (dir.path / "automerge").string();
  const UnixMillis now =
      static_cast<UnixMillis>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count());
  const UnixMillis ten_days_ago = now - 10ull * 24 * 3600 * 1000;
  {
    fs::create_directories(store_dir);
    auto s = store::DocumentStore::open(store_dir, Bytes(16, 0x07));
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->put_json("nodes:old", {{"m", 1}}, ten_days_ago).ok());
    ASSERT_TRUE((*s)->remove("nodes:old", ten_days_ago, "test").ok());
    ASSERT_TRUE((*s)->put_json("nodes:new", {{"m", 2}}, now).ok());
    ASSERT_TRUE((*s)->remove("nodes:new", now, "test").ok());
    ASSERT_EQ((*s)->base().tombstones("nodes")->size(), 2u);
  }
  MeshConfig c;
  c.data_dir = dir.path;
  c.gc_interval = std::chrono::milliseconds(100);
  c.reconnect_interval = std::chrono::milliseconds(50);  // the tick that runs GC
  auto mesh = make_mesh(c);
  ASSERT_TRUE(mesh->start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // several GC intervals
  ASSERT_TRUE(mesh->stop().ok());

  auto s = store::DocumentStore::open(store_dir, Bytes(16, 0x07));
  ASSERT_TRUE(s.ok());
  auto left = (*s)->base().tombstones("nodes");
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].document_id, "new");
}

TEST(MeshBrokerBackendTest, ServesDocumentsAndMetrics) {
  TempDir dir;
  MeshConfig c;
  c.node_id = "backend-node";
  c.data_dir = dir.path;
  auto mesh = make_mesh(c);
  ASSERT_TRUE(mesh->start().ok());
  auto& b = mesh->broker_backend();
  EXPECT_EQ(b.node_info().node_id, "backend-node");
  EXPECT_FALSE(b.list_documents("empty"));  // Rust: an empty collection is not available
  ASSERT_TRUE(mesh->put_document("logs", "l1", R"({"m":"hi"})").ok());
  auto topology = b.topology();
  EXPECT_EQ(topology.role, "standalone");
  EXPECT_EQ(topology.peer_count, 0u);
  bool found_sync = false;
  for (const auto& m : b.metrics())
    if (m.name == "peat_mesh_sync_enabled") found_sync = true;
  EXPECT_TRUE(found_sync);
  auto docs = b.list_documents("logs");
  ASSERT_TRUE(docs);
  EXPECT_EQ(docs->size(), 1u);
  EXPECT_TRUE(b.put_document("logs", "l2", R"({"m":"yo"})").ok());
  EXPECT_TRUE(b.get_document("logs", "l2"));
  auto q = b.query_documents("logs", R"({"where":[{"field":"m","op":"eq","value":"yo"}]})");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->size(), 1u);
  EXPECT_TRUE(*b.delete_document("logs", "l2"));
  ASSERT_TRUE(mesh->stop().ok());
  EXPECT_EQ(b.put_document("logs", "l3", "{}").error().code, "NOT_RUNNING");
  EXPECT_FALSE(b.readiness().ready);
}

TEST(MeshNetworkTest, TwoMeshesConnectOverLoopback) {
  TempDir dir;
  // Fixed ports would collide across parallel tests; pick two free-looking ones from the pid.
  auto base = static_cast<std::uint16_t>(30000 + (getpid() % 10000) * 2);
  auto write_peers = [&](const std::string& file, const std::string& peer, std::uint16_t port) {
    std::ofstream out(dir.path / file);
    out << "[[peers]]\nnode_id = \"" << peer << "\"\naddresses = [\"127.0.0.1:" << port << "\"]\n";
  };
  write_peers("a.toml", "mesh-b", static_cast<std::uint16_t>(base + 1));
  write_peers("b.toml", "mesh-a", base);
  auto config = [&](const std::string& id, const std::string& peers, std::uint16_t port) {
    MeshConfig c;
    c.node_id = id;
    c.formation_secret = kSecret;
    c.quic_bind_host = "127.0.0.1";
    c.quic_port = port;
    c.discovery_mode = DiscoveryMode::kStatic;
    c.static_peers_file = dir.path / peers;
    c.reconnect_interval = std::chrono::milliseconds(200);
    c.data_dir = dir.path / id;
    return c;
  };
  Recorder ra, rb;
  auto a = make_mesh(config("mesh-a", "a.toml", base));
  auto b = make_mesh(config("mesh-b", "b.toml", static_cast<std::uint16_t>(base + 1)));
  a->subscribe(ra.callback());
  b->subscribe(rb.callback());
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(b->start().ok());
  auto joined = [](const std::string& who) {
    return [who](const std::vector<MeshEvent>& evs) {
      for (const auto& e : evs)
        if (auto* j = std::get_if<PeerJoined>(&e); j && j->peer == who) return true;
      return false;
    };
  };
  ASSERT_TRUE(ra.wait_for(joined("mesh-b")));
  ASSERT_TRUE(rb.wait_for(joined("mesh-a")));
  auto peers = a->peers();
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_EQ(peers[0].node_id, "mesh-b");
  EXPECT_TRUE(peers[0].connected);
  EXPECT_EQ(a->status().peer_count, 1u);

  if (a->status().sync_enabled) {
    // A document written on A arrives on B; B's delete reaches A. Polls are bounded.
    ASSERT_TRUE(a->put_document("notes", "n1", R"({"text":"hello"})").ok());
    auto arrives = [](PeatMesh& m, bool present) {
      for (int i = 0; i < 100; ++i) {
        auto d = m.get_document("notes", "n1");
        if (d.ok() && d->has_value() == present) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      return false;
    };
    ASSERT_TRUE(arrives(*b, true));
    EXPECT_NE(b->get_document("notes", "n1")->value().find("hello"), std::string::npos);
    ASSERT_TRUE(*b->delete_document("notes", "n1"));
    EXPECT_TRUE(arrives(*a, false));
    EXPECT_TRUE(rb.wait_for([](const std::vector<MeshEvent>& evs) {
      for (const auto& e : evs)
        if (auto* d = std::get_if<DocumentChanged>(&e); d && d->from_peer) return true;
      return false;
    }));
  }

  // B stops cleanly while connected: its CONNECTION_CLOSE tells A, which reports B as left by
  // a remote close (not an idle timeout, which is far longer than this wait).
  ASSERT_TRUE(b->stop().ok());
  EXPECT_EQ(b->state(), MeshState::kStopped);
  EXPECT_TRUE(ra.wait_for([](const std::vector<MeshEvent>& evs) {
    for (const auto& e : evs)
      if (auto* l = std::get_if<PeerLeft>(&e); l && l->peer == "mesh-b")
        return l->reason == "remote closed";
    return false;
  }));
  ASSERT_TRUE(a->stop().ok());
}

TEST(MeshNetworkTest, FormationGateRefusesOtherSecrets) {
  TempDir dir;
  auto base = static_cast<std::uint16_t>(40000 + (getpid() % 10000) * 2);
  {
    std::ofstream(dir.path / "a.toml") << "[[peers]]\nnode_id = \"gate-b\"\naddresses = "
                                          "[\"127.0.0.1:"
                                       << base + 1 << "\"]\n";
    std::ofstream(dir.path / "b.toml") << "[[peers]]\nnode_id = \"gate-a\"\naddresses = "
                                          "[\"127.0.0.1:"
                                       << base << "\"]\n";
  }
  auto config = [&](const std::string& id, const std::string& peers, std::uint16_t port,
                    const char* secret) {
    MeshConfig c;
    c.node_id = id;
    c.formation_secret = secret;
    c.quic_bind_host = "127.0.0.1";
    c.quic_port = port;
    c.discovery_mode = DiscoveryMode::kStatic;
    c.static_peers_file = dir.path / peers;
    c.reconnect_interval = std::chrono::milliseconds(100);
    return c;
  };
  Recorder ra;
  auto a = make_mesh(config("gate-a", "a.toml", base, kSecret));
  auto b = make_mesh(config("gate-b", "b.toml", static_cast<std::uint16_t>(base + 1),
                            "ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmY="));
  a->subscribe(ra.callback());
  ASSERT_TRUE(a->start().ok());
  ASSERT_TRUE(b->start().ok());
  // Several dial rounds pass (100 ms each) without any connection.
  EXPECT_FALSE(ra.wait_for(
      [](const std::vector<MeshEvent>& evs) {
        for (const auto& e : evs)
          if (std::holds_alternative<PeerJoined>(e)) return true;
        return false;
      },
      std::chrono::seconds(2)));
  EXPECT_EQ(a->status().peer_count, 0u);
  EXPECT_EQ(b->status().peer_count, 0u);
}

TEST(MeshEventsTest, BrokerJsonShapes) {
  EXPECT_EQ(to_json(PeerJoined{"n1"}), R"({"peer_id":"n1","type":"PeerConnected"})");
  auto left = nlohmann::json::parse(to_json(PeerLeft{"n1", "timeout"}));
  EXPECT_EQ(left["type"], "PeerDisconnected");
  EXPECT_EQ(left["reason"], "timeout");
  auto topo = nlohmann::json::parse(to_json(TopologyChanged{"standalone", 0}));
  EXPECT_EQ(topo["new_role"], "standalone");
  EXPECT_EQ(topo["peer_count"], 0);
  auto sync = nlohmann::json::parse(to_json(DocumentChanged{"c", "d", DocumentAction::kDeleted}));
  EXPECT_EQ(sync["type"], "SyncEvent");
  EXPECT_EQ(sync["action"], "deleted");
  EXPECT_STREQ(to_string(MeshState::kStopping), "stopping");
}

}  // namespace
}  // namespace peat::mesh
