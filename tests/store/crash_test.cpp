// Crash safety: a child process appends documents in a loop and reports each committed write
// through a pipe; the parent kill -9's it at a random moment, reopens the store and checks that
// every reported write is there, nothing is torn, and the indexes agree with the data.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "peat/common/random.hpp"
#include "peat/store/doc_store.hpp"
#include "store/test_dir.hpp"
#include "support/kill_harness.hpp"

namespace peat::store {
namespace {

constexpr int kDocs = 20;

DocStoreOptions crash_options() {
  DocStoreOptions o;
  o.compact_tail_chunks = 8;  // compaction happens often, so crashes also hit it
  o.compactor = [](ByteView all) -> Result<Bytes> { return Bytes(all.begin(), all.end()); };
  return o;
}

std::string doc_key(std::uint32_t i) {
  return "crash:doc-" + std::to_string(i % kDocs);
}

[[noreturn]] void child_main(const std::string& dir, int fd) {
  auto store = DocStore::open(dir, crash_options());
  if (!store.ok()) _exit(2);
  for (std::uint32_t i = 0; i < 1'000'000; ++i) {
    std::string chunk = std::to_string(i) + ";";
    WriteInfo w;
    w.lamport = i + 1;
    w.now = 1'700'000'000'000 + i;
    if (i % 3 == 0) w.geohash = "9q60y" + std::to_string(i % 4);
    if (!(*store)->append(doc_key(i), as_bytes(chunk), w).ok()) _exit(3);
    test::report(fd, i);
  }
  _exit(0);
}

TEST(StoreCrash, Kill9NeverLosesCommittedWritesNorCorrupts) {
  SeededRng rng(0xC0FFEE);
  for (int round = 0; round < 3; ++round) {
    test::TempDir dir;
    std::map<std::string, std::uint32_t> last_reported;
    const std::uint64_t kill_after = 20 + rng.uniform(150);
    const auto delay_us = static_cast<useconds_t>(rng.uniform(3000));
    auto run = test::run_and_kill<std::uint32_t>(
        [&](int fd) { child_main(dir.str(), fd); }, kill_after, delay_us,
        [&](std::uint32_t i) { last_reported[doc_key(i)] = i; });
    ASSERT_TRUE(run.killed) << run.detail;

    auto store = DocStore::open(dir.str(), crash_options());
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    Status consistent = (*store)->check_consistency();
    EXPECT_TRUE(consistent.ok()) << consistent.error().to_string();
    for (const auto& [key, last] : last_reported) {
      auto bytes = (*store)->read(key);
      ASSERT_TRUE(bytes.ok() && bytes->has_value()) << key << " lost";
      // The document is exactly the chunks doc, doc+kDocs, ... with no gap or tear, and reaches
      // at least the last reported write (one more may have committed before its report).
      std::string content(as_chars(**bytes));
      std::uint32_t expect = last % kDocs;
      std::size_t pos = 0;
      while (pos < content.size()) {
        auto semi = content.find(';', pos);
        ASSERT_NE(semi, std::string::npos) << key << ": torn chunk";
        ASSERT_EQ(content.substr(pos, semi - pos), std::to_string(expect)) << key;
        expect += kDocs;
        pos = semi + 1;
      }
      EXPECT_GT(expect, last) << key << ": reported write " << last << " missing";
      auto meta = (*store)->meta(key);
      EXPECT_EQ((*meta)->lamport, expect - kDocs + 1) << key;
    }
  }
}

TEST(KillHarness, ChildThatEndsOnItsOwnIsNotCountedAsKilled) {
  std::vector<std::uint32_t> seen;
  auto run = test::run_and_kill<std::uint32_t>(
      [](int fd) {
        for (std::uint32_t i = 0; i < 3; ++i) test::report(fd, i);
      },
      10, 0, [&](std::uint32_t i) { seen.push_back(i); });
  EXPECT_FALSE(run.killed);
  EXPECT_EQ(run.reports, 3u);
  EXPECT_EQ(seen, (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_EQ(run.detail, "child exited with code 0");
}

}  // namespace
}  // namespace peat::store
