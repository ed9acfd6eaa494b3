// End to end, in process: two meshes meet over loopback QUIC (static discovery). A blob added
// on A through its HTTP broker is fetched by B through B's broker by hash, and B serves the
// same bytes. Then B stops gracefully and A sees it leave (CONNECTION_CLOSE, not a timeout).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "mesh/node_test_support.hpp"
#include "peat/common/random.hpp"
#include "peat/common/sha256.hpp"
#include "peat/mesh/peat_mesh.hpp"

namespace peat::mesh {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::http_request;

const char* kSecret = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

// A UDP port that was free a moment ago (the kernel's pick for port 0).
std::uint16_t free_udp_port() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct Events {
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
  template <typename T>
  std::optional<T> wait(const std::string& peer, std::chrono::seconds limit = 10s) {
    std::unique_lock lock(mu);
    std::optional<T> found;
    cv.wait_for(lock, limit, [&] {
      for (const auto& e : events)
        if (auto* v = std::get_if<T>(&e); v && v->peer == peer) found = *v;
      return found.has_value();
    });
    return found;
  }
};

template <typename Pred>
bool poll(Pred pred, int tries = 200) {
  for (int i = 0; i < tries; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(25ms);
  }
  return false;
}

TEST(NodeBlobTest, BlobAddedOnOneNodeIsFetchedByHashOnTheOther) {
  testing::TempDir dir;
  const std::uint16_t port_a = free_udp_port(), port_b = free_udp_port();
  auto peers_file = [&](const std::string& file, const std::string& peer, std::uint16_t port) {
    std::ofstream(dir.path / file)
        << "[[peers]]\nnode_id = \"" << peer << "\"\naddresses = [\"127.0.0.1:" << port << "\"]\n";
  };
  peers_file("a.toml", "blob-b", port_b);
  peers_file("b.toml", "blob-a", port_a);
  auto config = [&](const std::string& id, const std::string& peers, std::uint16_t port) {
    MeshConfig c;
    c.node_id = id;
    c.formation_secret = kSecret;
    c.quic_bind_host = "127.0.0.1";
    c.quic_port = port;
    c.discovery_mode = DiscoveryMode::kStatic;
    c.static_peers_file = dir.path / peers;
    c.reconnect_interval = 200ms;
    c.data_dir = dir.path / id;
    c.broker_port = 0;
    c.broker_bind_host = "127.0.0.1";
    c.blob_profile = "edge";  // 64 KiB chunks: many of them for a few MiB
    return c;
  };
  Events ea;
  auto a = PeatMeshBuilder().with_config(config("blob-a", "a.toml", port_a)).build();
  auto b = PeatMeshBuilder().with_config(config("blob-b", "b.toml", port_b)).build();
  ASSERT_TRUE(a.ok() && b.ok());
  (*a)->subscribe(ea.callback());
  ASSERT_TRUE((*a)->start().ok());
  ASSERT_TRUE((*b)->start().ok());
  ASSERT_TRUE(ea.wait<PeerJoined>("blob-b"));
  const auto broker_a = (*a)->status().broker_port, broker_b = (*b)->status().broker_port;

  SeededRng rng(21);
  std::string content(3 * 1024 * 1024 + 123, '\0');
  rng.fill({reinterpret_cast<std::uint8_t*>(content.data()), content.size()});
  auto added = http_request(broker_a, "POST", "/api/v1/blobs?name=map.tiles", content,
                            {{"Content-Type", "application/x-tiles"}});
  ASSERT_EQ(added.status, 201) << added.body;
  const std::string hash = json::parse(added.body)["hash"];
  EXPECT_EQ(hash, to_hex(Sha256::digest(ByteView(
                      reinterpret_cast<const std::uint8_t*>(content.data()), content.size()))));

  // B does not have it; a fetch from an unknown peer is 404; from A it starts.
  EXPECT_EQ(http_request(broker_b, "GET", "/api/v1/blobs/" + hash).status, 404);
  EXPECT_EQ(http_request(broker_b, "GET", "/api/v1/blobs/" + hash + "/status").status, 404);
  EXPECT_EQ(
      http_request(broker_b, "POST", "/api/v1/blobs/" + hash + "/fetch", R"({"peer":"nobody"})")
          .status,
      404);
  const auto t0 = std::chrono::steady_clock::now();
  auto started =
      http_request(broker_b, "POST", "/api/v1/blobs/" + hash + "/fetch", R"({"peer":"blob-a"})");
  ASSERT_TRUE(started.status == 202 || started.status == 200) << started.body;
  EXPECT_EQ(json::parse(started.body)["peer"], "blob-a");

  json status;
  ASSERT_TRUE(poll([&] {
    auto r = http_request(broker_b, "GET", "/api/v1/blobs/" + hash + "/status");
    if (r.status != 200) return false;
    status = json::parse(r.body, nullptr, false);
    return status.value("state", "") != "fetching";
  })) << status.dump();
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(status["state"], "complete") << status.dump();
  EXPECT_EQ(status["bytes_done"], content.size());
  std::printf(
      "fetch of %zu bytes over loopback QUIC through the brokers: %lld ms\n", content.size(),
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));

  auto got = http_request(broker_b, "GET", "/api/v1/blobs/" + hash);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.headers["content-type"], "application/x-tiles");
  EXPECT_TRUE(got.body == content) << "bytes differ (" << got.body.size() << " received)";
  auto direct = (*b)->read_blob(hash);
  ASSERT_TRUE(direct.ok());
  EXPECT_TRUE(*direct == Bytes(content.begin(), content.end()));
  auto listed = (*b)->list_blobs();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, std::optional<std::string>("map.tiles"));
  // A second fetch of a stored blob is answered at once.
  auto again =
      http_request(broker_b, "POST", "/api/v1/blobs/" + hash + "/fetch", R"({"peer":"blob-a"})");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(json::parse(again.body)["state"], "complete");

  // Graceful stop of B: A sees it leave because B closed the connection.
  const auto stop_at = std::chrono::steady_clock::now();
  ASSERT_TRUE((*b)->stop().ok());
  auto left = ea.wait<PeerLeft>("blob-b");
  ASSERT_TRUE(left);
  EXPECT_EQ(left->reason, "remote closed");
  std::printf("A saw B leave %lld ms after B's stop() began\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - stop_at)
                                         .count()));
  ASSERT_TRUE((*a)->stop().ok());
}

TEST(NodeBlobTest, FacadeBlobCallsAndErrors) {
  testing::TempDir dir;
  MeshConfig c;
  c.node_id = "blob-solo";
  c.data_dir = dir.path;
  auto built = PeatMeshBuilder().with_config(c).build();
  ASSERT_TRUE(built.ok());
  auto& mesh = **built;
  EXPECT_EQ(mesh.add_blob(Bytes{1, 2, 3}).error().code, "NOT_RUNNING");
  ASSERT_TRUE(mesh.start().ok());
  auto info = mesh.add_blob(Bytes{1, 2, 3}, "three", "application/octet-stream");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 3u);
  std::ofstream(dir.path / "file.bin", std::ios::binary) << "file content";
  auto from_file = mesh.add_blob_file(dir.path / "file.bin");
  ASSERT_TRUE(from_file.ok());
  EXPECT_EQ(from_file->size, 12u);
  EXPECT_EQ(mesh.list_blobs()->size(), 2u);
  EXPECT_EQ(*mesh.read_blob(info->hash), (Bytes{1, 2, 3}));
  EXPECT_TRUE(std::filesystem::exists(*mesh.blob_path(info->hash)));
  EXPECT_EQ(mesh.blob_status(info->hash)->state, "complete");
  EXPECT_EQ(mesh.blob_status(std::string(64, 'a')).error().code, "NOT_FOUND");
  EXPECT_EQ(mesh.blob_status("zz").error().code, "INVALID_HASH");
  // No formation secret: no QUIC, so nothing can be fetched.
  EXPECT_EQ(mesh.fetch_blob(std::string(64, 'a'), "someone").error().code, "TRANSPORT");
  ASSERT_TRUE(mesh.stop().ok());
  // Content survives a restart.
  ASSERT_TRUE(mesh.start().ok());
  EXPECT_EQ(*mesh.read_blob(from_file->hash),
            (Bytes{'f', 'i', 'l', 'e', ' ', 'c', 'o', 'n', 't', 'e', 'n', 't'}));
  ASSERT_TRUE(mesh.stop().ok());

  MeshConfig no_dir;
  no_dir.node_id = "blob-none";
  auto bare = PeatMeshBuilder().with_config(no_dir).build();
  ASSERT_TRUE(bare.ok());
  ASSERT_TRUE((*bare)->start().ok());
  EXPECT_EQ((*bare)->add_blob(Bytes{1}).error().code, "NO_STORE");
  ASSERT_TRUE((*bare)->stop().ok());
}

}  // namespace
}  // namespace peat::mesh
