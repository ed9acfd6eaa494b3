// The QoS storage guard through the facade: a mesh started over a store that is far over its
// storage budget evicts old low-priority documents until it is back under the target, keeps
// every Critical one, and a local write brings an evicted document back.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include "peat/broker/backend.hpp"
#include "peat/mesh/peat_mesh.hpp"
#include "peat/store/document_store.hpp"
#include "support/scratch_dir.hpp"

namespace peat::mesh {
namespace {

namespace fs = std::filesystem;

using TempDir = peat::test::ScratchDir;

UnixMillis wall_now() {
  return static_cast<UnixMillis>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

double metric(broker::BrokerBackend& b, const std::string& name) {
  for (const auto& m : b.metrics())
    if (m.name == name) return m.value;
  return -1;
}

// Writes `count` documents of `collection` three hours in the past; returns their stored bytes.
std::uint64_t write_old(store::DocumentStore& s, const std::string& collection, int count) {
  const UnixMillis then = wall_now() - 3 * 3600 * 1000;
  std::uint64_t bytes = 0;
  for (int i = 0; i < count; ++i) {
    const std::string key = collection + ":d" + std::to_string(i);
    nlohmann::json j = {{"seq", i}, {"payload", std::string(400, static_cast<char>('a' + i % 26))}};
    EXPECT_TRUE(s.put_json(key, j, then).ok());
    bytes += s.stored_size(key).value_or(0);
  }
  return bytes;
}

std::size_t count_docs(PeatMesh& mesh, const std::string& collection) {
  auto ids = mesh.list_documents(collection);
  return ids.ok() ? ids->size() : 0;
}

TEST(MeshStorageGuardTest, EvictsBulkUnderPressureKeepsCriticalAndLocalWritesReturn) {
  TempDir dir;
  std::uint64_t total = 0;
  {
    fs::create_directories(dir.path / "automerge");
    auto s = store::DocumentStore::open((dir.path / "automerge").string(), Bytes(16, 0x42));
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    total += write_old(**s, "track_history", 60);  // Bulk
    total += write_old(**s, "alerts", 5);          // Critical
  }

  MeshConfig c;
  c.data_dir = dir.path;
  c.drain_timeout = std::chrono::milliseconds(0);
  c.storage_max_bytes = total / 2;  // pressure ~2: far over the 0.9 threshold
  c.storage_check_interval = std::chrono::milliseconds(50);
  auto built = PeatMeshBuilder().with_config(c).build();
  ASSERT_TRUE(built.ok()) << built.error().to_string();
  auto& mesh = **built;
  ASSERT_TRUE(mesh.start().ok());
  auto& backend = mesh.broker_backend();
  EXPECT_EQ(metric(backend, "peat_mesh_storage_max_bytes"), static_cast<double>(total / 2));

  // Bounded wait: the first cycles run within a few intervals.
  const double target = 0.7 * static_cast<double>(total / 2);
  for (int i = 0; i < 200 && metric(backend, "peat_mesh_storage_used_bytes") > target; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_LE(metric(backend, "peat_mesh_storage_used_bytes"), target);
  EXPECT_GT(metric(backend, "peat_mesh_storage_evictions"), 0);

  EXPECT_EQ(count_docs(mesh, "alerts"), 5u);  // Critical: never evicted
  const auto left = count_docs(mesh, "track_history");
  EXPECT_LT(left, 60u);
  EXPECT_FALSE(mesh.get_document("track_history", "d0")->has_value());  // oldest went first

  // A local write of an evicted document stores it again.
  ASSERT_TRUE(mesh.put_document("track_history", "d0", R"({"seq":0,"again":true})").ok());
  auto again = mesh.get_document("track_history", "d0");
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_NE((*again)->find("again"), std::string::npos);
  ASSERT_TRUE(mesh.stop().ok());
}

TEST(MeshStorageGuardTest, NoBudgetNoGuardAndBudgetNeedsAStore) {
  TempDir dir;
  MeshConfig c;
  c.data_dir = dir.path;
  c.drain_timeout = std::chrono::milliseconds(0);
  auto built = PeatMeshBuilder().with_config(c).build();
  ASSERT_TRUE(built.ok());
  ASSERT_TRUE((*built)->start().ok());
  EXPECT_EQ(metric((*built)->broker_backend(), "peat_mesh_storage_max_bytes"), -1);
  ASSERT_TRUE((*built)->stop().ok());

  MeshConfig no_store;
  no_store.storage_max_bytes = 1 << 20;
  auto bad = PeatMeshBuilder().with_config(no_store).build();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("storage budget"), std::string::npos);
}

}  // namespace
}  // namespace peat::mesh
