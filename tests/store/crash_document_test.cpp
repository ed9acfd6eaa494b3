// Crash safety with real Automerge documents: a child process keeps editing documents through
// DocumentStore (incremental appends, compaction by load + save every few writes) and reports
// each committed value; after kill -9 the parent reopens and finds every reported value.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "peat/common/random.hpp"
#include "peat/store/document_store.hpp"
#include "store/test_dir.hpp"
#include "support/kill_harness.hpp"

namespace peat::store {
namespace {

constexpr std::uint32_t kDocs = 8;

DocStoreOptions options() {
  DocStoreOptions o;
  o.compact_tail_chunks = 5;
  return o;
}

[[noreturn]] void child_main(const std::string& dir, int fd) {
  auto store = DocumentStore::open(dir, doc::ActorId(16, 0x11), options());
  if (!store.ok()) _exit(2);
  for (std::uint32_t i = 0; i < 1'000'000; ++i) {
    std::string key = "crash:d" + std::to_string(i % kDocs);
    nlohmann::json j = {{"value", i}, {"history", nlohmann::json::array({i, i + 1})}};
    if (!(*store)->put_json(key, j, 1'700'000'000'000 + i).ok()) _exit(3);
    test::report(fd, i);
  }
  _exit(0);
}

TEST(StoreCrash, Kill9WithAutomergeDocumentsAndCompaction) {
  SeededRng rng(0xD0C);
  for (int round = 0; round < 2; ++round) {
    test::TempDir dir;
    std::map<std::string, std::uint32_t> last;
    const std::uint64_t kill_after = 15 + rng.uniform(60);
    const auto delay_us = static_cast<useconds_t>(rng.uniform(5000));
    auto run = test::run_and_kill<std::uint32_t>(
        [&](int fd) { child_main(dir.str(), fd); }, kill_after, delay_us,
        [&](std::uint32_t i) { last["crash:d" + std::to_string(i % kDocs)] = i; });
    ASSERT_TRUE(run.killed) << run.detail;

    auto store = DocumentStore::open(dir.str(), doc::ActorId(16, 0x22), options());
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    Status consistent = (*store)->base().check_consistency();
    EXPECT_TRUE(consistent.ok()) << consistent.error().to_string();
    for (const auto& [key, value] : last) {
      auto j = (*store)->get_json(key);
      ASSERT_TRUE(j.ok()) << key << ": " << j.error().to_string();
      ASSERT_TRUE(j->has_value()) << key << " lost";
      // The reported write, or the one after it if it committed before its report.
      auto got = (**j)["value"].get<std::uint32_t>();
      EXPECT_TRUE(got == value || got == value + kDocs) << key << ": " << got << " vs " << value;
    }
  }
}

}  // namespace
}  // namespace peat::store
