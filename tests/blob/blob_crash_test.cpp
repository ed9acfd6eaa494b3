// A receiving process is killed with SIGKILL mid-transfer; a new receiver resumes from the
// last checkpoint the dead one reported and completes a verified blob.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peat/blob/transfer.hpp"
#include "peat/common/random.hpp"
#include "store/test_dir.hpp"

namespace peat::blob {
namespace {

TEST(BlobCrash, Kill9DuringReceiveResumesFromLastCheckpoint) {
  signal(SIGPIPE, SIG_IGN);
  test::TempDir dir;
  SeededRng rng(77);
  Bytes data(3'000'000);
  rng.fill(data);
  auto source = BlobStore::open(dir.path() / "src");
  ASSERT_TRUE(source.ok());
  auto token = source->put_bytes(data);
  ASSERT_TRUE(token.ok());
  const TransferProfile profile = TransferProfile::edge();  // 64 KiB chunks, 10 s checkpoints

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    auto dest = BlobStore::open(dir.path() / "dst");
    if (!dest.ok()) _exit(2);
    Instant now{};
    auto rx = BlobReceiver::start(*dest, *token, profile, now);
    auto tx = BlobSender::open(*source, token->hash, profile, 0);
    if (!rx.ok() || !tx.ok()) _exit(3);
    for (int i = 0; i < 1000; ++i) {
      now += std::chrono::seconds(5);  // a checkpoint every second chunk
      auto c = tx->next();
      if (!c.ok() || !c->has_value()) _exit(4);
      if (!rx->on_chunk(**c, now).ok()) _exit(5);
      for (const TransferEvent& e : rx->take_events()) {
        if (e.kind != TransferEventKind::kCheckpointed) continue;
        std::uint64_t off = e.bytes_done;
        if (write(fds[1], &off, sizeof off) != static_cast<ssize_t>(sizeof off)) _exit(6);
      }
      usleep(5000);  // slow receiver, so the kill lands mid-transfer
    }
    _exit(0);
  }
  close(fds[1]);
  std::uint64_t last_checkpoint = 0;
  std::uint64_t off = 0;
  int reports = 0;
  while (read(fds[0], &off, sizeof off) == static_cast<ssize_t>(sizeof off)) {
    last_checkpoint = off;
    if (++reports == 6) kill(pid, SIGKILL);
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "receiver ended otherwise, status " << status;
  ASSERT_GT(last_checkpoint, 0u);

  auto dest = BlobStore::open(dir.path() / "dst");
  ASSERT_TRUE(dest.ok());
  auto rx = BlobReceiver::start(*dest, *token, profile, Instant{});
  ASSERT_TRUE(rx.ok()) << rx.error().to_string();
  EXPECT_TRUE(rx->resumed());
  // The checkpoint file may be one newer than the last report (written, then killed).
  EXPECT_GE(rx->resume_offset(), last_checkpoint);
  EXPECT_LT(rx->resume_offset(), data.size());
  auto tx = BlobSender::open(*source, token->hash, profile, rx->resume_offset());
  for (int i = 0; i < 100 && !rx->complete(); ++i) {
    auto c = tx->next();
    ASSERT_TRUE(c.ok() && c->has_value());
    ASSERT_TRUE(rx->on_chunk(**c, Instant{}).ok());
  }
  ASSERT_TRUE(rx->complete());
  EXPECT_TRUE(dest->verify(token->hash).ok());
  EXPECT_EQ(*dest->read_all(token->hash), data);
}

}  // namespace
}  // namespace peat::blob
