// Crash safety with real Automerge documents: a child process keeps editing documents through
// DocumentStore (incremental appends, compaction by load + save every few writes) and reports
// each committed value; after kill -9 the parent reopens and finds every reported value.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "peat/common/random.hpp"
#include "peat/store/document_store.hpp"
#include "store/test_dir.hpp"

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
    if (write(fd, &i, sizeof i) != static_cast<ssize_t>(sizeof i)) _exit(4);
  }
  _exit(0);
}

TEST(StoreCrash, Kill9WithAutomergeDocumentsAndCompaction) {
  signal(SIGPIPE, SIG_IGN);
  SeededRng rng(0xD0C);
  for (int round = 0; round < 2; ++round) {
    test::TempDir dir;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      child_main(dir.str(), fds[1]);
    }
    close(fds[1]);
    const std::uint64_t kill_after = 15 + rng.uniform(60);
    std::map<std::string, std::uint32_t> last;
    std::uint64_t reports = 0;
    std::uint32_t i = 0;
    while (read(fds[0], &i, sizeof i) == static_cast<ssize_t>(sizeof i)) {
      last["crash:d" + std::to_string(i % kDocs)] = i;
      if (++reports == kill_after) {
        usleep(static_cast<useconds_t>(rng.uniform(5000)));
        kill(pid, SIGKILL);
      }
    }
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child ended otherwise, status " << status;

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
