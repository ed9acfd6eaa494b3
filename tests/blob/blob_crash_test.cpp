// A receiving process is killed with SIGKILL mid-transfer; a new receiver resumes from the
// last checkpoint the dead one reported and completes a verified blob.
#include <gtest/gtest.h>
#include <unistd.h>

#include "peat/blob/transfer.hpp"
#include "peat/common/random.hpp"
#include "store/test_dir.hpp"
#include "support/kill_harness.hpp"

namespace peat::blob {
namespace {

TEST(BlobCrash, Kill9DuringReceiveResumesFromLastCheckpoint) {
  test::TempDir dir;
  SeededRng rng(77);
  Bytes data(3'000'000);
  rng.fill(data);
  auto source = BlobStore::open(dir.path() / "src");
  ASSERT_TRUE(source.ok());
  auto token = source->put_bytes(data);
  ASSERT_TRUE(token.ok());
  const TransferProfile profile = TransferProfile::edge();  // 64 KiB chunks, 10 s checkpoints

  auto receive = [&](int fd) {
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
        if (e.kind == TransferEventKind::kCheckpointed) test::report(fd, e.bytes_done);
      }
      usleep(5000);  // slow receiver, so the kill lands mid-transfer
    }
  };
  std::uint64_t last_checkpoint = 0;
  auto run = test::run_and_kill<std::uint64_t>(
      receive, 6, 0, [&](std::uint64_t offset) { last_checkpoint = offset; });
  ASSERT_TRUE(run.killed) << run.detail;
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
