#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "peat/blob/blob_store.hpp"
#include "peat/blob/transfer.hpp"
#include "peat/common/random.hpp"
#include "store/test_dir.hpp"

namespace peat::blob {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  SeededRng rng(seed);
  Bytes b(n);
  rng.fill(b);
  return b;
}

std::size_t count_files(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

TEST(TransferProfile, MatchesTheSpecifiedSizes) {
  EXPECT_EQ(TransferProfile::datacenter().chunk_size, 1024u * 1024u);
  EXPECT_EQ(TransferProfile::datacenter().checkpoint_interval, seconds(60));
  EXPECT_EQ(TransferProfile::tactical().chunk_size, 256u * 1024u);
  EXPECT_EQ(TransferProfile::tactical().checkpoint_interval, seconds(30));
  EXPECT_EQ(TransferProfile::edge().chunk_size, 64u * 1024u);
  EXPECT_EQ(TransferProfile::edge().checkpoint_interval, seconds(10));
}

TEST(BlobStore, PutReadListRemoveAndRestart) {
  test::TempDir dir;
  Bytes data = random_bytes(300'000, 1);
  BlobHash hash = Sha256::digest(data);
  {
    auto store = BlobStore::open(dir.path());
    ASSERT_TRUE(store.ok());
    BlobMetadata meta;
    meta.name = "map.tiles";
    meta.content_type = "application/octet-stream";
    meta.custom["zoom"] = "12";
    auto token = store->put_bytes(data, meta);
    ASSERT_TRUE(token.ok()) << token.error().to_string();
    EXPECT_EQ(token->hash, hash);
    EXPECT_EQ(token->size, data.size());
    EXPECT_EQ(store->path_of(hash).filename().string(), hash_to_hex(hash));
    // Same content again: same blob, no copy.
    ASSERT_TRUE(store->put_bytes(data).ok());
    EXPECT_EQ(store->list().size(), 1u);
  }
  // A new process (here: a new BlobStore on the same directory) still has it.
  auto store = BlobStore::open(dir.path());
  ASSERT_TRUE(store->exists(hash));
  auto info = store->info(hash);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->metadata.name, "map.tiles");
  EXPECT_EQ(info->metadata.custom.at("zoom"), "12");
  EXPECT_EQ(*store->read_all(hash), data);
  EXPECT_EQ(*store->read_range(hash, 100, 10), Bytes(data.begin() + 100, data.begin() + 110));
  EXPECT_EQ(store->total_bytes(), data.size());
  EXPECT_TRUE(store->verify(hash).ok());
  EXPECT_TRUE(*store->remove(hash));
  EXPECT_FALSE(store->exists(hash));
  EXPECT_EQ(store->info(hash).error().code, "NOT_FOUND");
  EXPECT_EQ(store->read_all(hash).error().code, "NOT_FOUND");
}

TEST(BlobStore, PutFileStreamsAndVerifyDetectsDiskCorruption) {
  test::TempDir dir;
  Bytes data = random_bytes(1'000'003, 2);
  fs::path src = dir.path() / "source.bin";
  {
    std::ofstream out(src, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
  }
  auto store = BlobStore::open(dir.path() / "blobs");
  auto token = store->put_file(src);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->hash, Sha256::digest(data));
  {
    std::fstream f(store->path_of(token->hash), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(500);
    f.put('\x42' ^ static_cast<char>(data[500]));
  }
  Status st = store->verify(token->hash);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "BLOB_CORRUPTED");
  EXPECT_EQ(store->put_file(dir.path() / "missing").error().code, "BLOB_IO");
}

TEST(BlobStore, HashHex) {
  EXPECT_EQ(hash_from_hex("zz").error().code, "INVALID_HASH");
  EXPECT_EQ(hash_from_hex(std::string(64, 'g')).error().code, "INVALID_HASH");
  BlobHash h = Sha256::digest(as_bytes("x"));
  EXPECT_EQ(*hash_from_hex(hash_to_hex(h)), h);
}

struct Peers {
  test::TempDir dir;
  BlobStore source = std::move(BlobStore::open(dir.path() / "a").value());
  BlobStore dest = std::move(BlobStore::open(dir.path() / "b").value());
};

TEST(BlobTransfer, FullTransferWithProgressEvents) {
  Peers p;
  Bytes data = random_bytes(200'000, 3);
  auto token = *p.source.put_bytes(data);
  Instant now{};
  auto rx = BlobReceiver::start(p.dest, token, TransferProfile::edge(), now);
  ASSERT_TRUE(rx.ok());
  auto tx = BlobSender::open(p.source, token.hash, TransferProfile::edge(), rx->resume_offset());
  ASSERT_TRUE(tx.ok());
  int chunks = 0;
  for (int guard = 0; guard < 100 && !rx->complete(); ++guard) {
    auto c = tx->next();
    ASSERT_TRUE(c.ok() && c->has_value());
    EXPECT_LE((*c)->data.size(), 64u * 1024u);
    ASSERT_TRUE(rx->on_chunk(**c, now).ok());
    ++chunks;
  }
  EXPECT_EQ(chunks, 4);  // 200,000 bytes in 64 KiB chunks
  EXPECT_FALSE(tx->next()->has_value());
  auto events = rx->take_events();
  ASSERT_GE(events.size(), 6u);
  EXPECT_EQ(events.front().kind, TransferEventKind::kStarted);
  EXPECT_EQ(events[1].kind, TransferEventKind::kProgress);
  EXPECT_EQ(events[1].bytes_done, 65536u);
  EXPECT_EQ(events.back().kind, TransferEventKind::kCompleted);
  EXPECT_EQ(*p.dest.read_all(token.hash), data);
  EXPECT_EQ(count_files(p.dest.partial_dir()), 0u);
}

TEST(BlobTransfer, InterruptedTransferResumesFromCheckpoint) {
  Peers p;
  Bytes data = random_bytes(1'000'000, 4);
  auto token = *p.source.put_bytes(data);
  TransferProfile profile = TransferProfile::edge();  // 64 KiB chunks, checkpoint every 10 s
  Instant now{};
  std::uint64_t checkpointed = 0;
  std::uint64_t received = 0;
  {
    auto rx = BlobReceiver::start(p.dest, token, profile, now);
    auto tx = BlobSender::open(p.source, token.hash, profile, 0);
    for (int i = 0; i < 8; ++i) {
      now += seconds(4);  // a checkpoint every third chunk
      auto c = tx->next();
      ASSERT_TRUE(rx->on_chunk(**c, now).ok());
    }
    for (const TransferEvent& e : rx->take_events()) {
      if (e.kind == TransferEventKind::kCheckpointed) checkpointed = e.bytes_done;
    }
    received = rx->resume_offset();
    // The receiver goes away without a final checkpoint, as in a crash or a dropped link.
  }
  ASSERT_GT(checkpointed, 0u);
  ASSERT_LT(checkpointed, received);

  auto rx = BlobReceiver::start(p.dest, token, profile, now);
  ASSERT_TRUE(rx.ok()) << rx.error().to_string();
  EXPECT_TRUE(rx->resumed());
  EXPECT_EQ(rx->resume_offset(), checkpointed);
  auto tx = BlobSender::open(p.source, token.hash, profile, rx->resume_offset());
  std::uint64_t resent = 0;
  for (int guard = 0; guard < 100 && !rx->complete(); ++guard) {
    auto c = tx->next();
    ASSERT_TRUE(c.ok() && c->has_value());
    resent += (*c)->data.size();
    ASSERT_TRUE(rx->on_chunk(**c, now).ok());
  }
  ASSERT_TRUE(rx->complete());
  EXPECT_EQ(resent, data.size() - checkpointed);
  EXPECT_EQ(*p.dest.read_all(token.hash), data);
  EXPECT_TRUE(p.dest.verify(token.hash).ok());
  EXPECT_EQ(count_files(p.dest.partial_dir()), 0u);
}

TEST(BlobTransfer, CorruptedChunkIsDetectedAndPartialDeleted) {
  Peers p;
  Bytes data = random_bytes(150'000, 5);
  auto token = *p.source.put_bytes(data);
  Instant now{};
  auto rx = BlobReceiver::start(p.dest, token, TransferProfile::edge(), now);
  auto tx = BlobSender::open(p.source, token.hash, TransferProfile::edge(), 0);
  Status last;
  for (int i = 0; i < 10 && !rx->complete() && last.ok(); ++i) {
    auto c = **tx->next();
    if (i == 1) c.data[100] ^= 0x01;  // one flipped bit in transit
    last = rx->on_chunk(c, now);
  }
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.error().code, "BLOB_VERIFY_FAILED");
  EXPECT_NE(last.error().message.find(hash_to_hex(token.hash)), std::string::npos);
  EXPECT_FALSE(rx->complete());
  EXPECT_FALSE(p.dest.exists(token.hash));
  EXPECT_EQ(count_files(p.dest.partial_dir()), 0u);
  auto events = rx->take_events();
  EXPECT_EQ(events.back().kind, TransferEventKind::kFailed);
  EXPECT_EQ(rx->on_chunk({0, {1}, false}, now).error().code, "TRANSFER_OVER");
}

TEST(BlobTransfer, OutOfOrderChunkChangesNothing) {
  Peers p;
  Bytes data = random_bytes(100'000, 6);
  auto token = *p.source.put_bytes(data);
  Instant now{};
  auto rx = BlobReceiver::start(p.dest, token, TransferProfile::edge(), now);
  auto tx = BlobSender::open(p.source, token.hash, TransferProfile::edge(), 0);
  auto first = **tx->next();
  auto second = **tx->next();
  EXPECT_EQ(rx->on_chunk(second, now).error().code, "OUT_OF_ORDER");
  ASSERT_TRUE(rx->on_chunk(first, now).ok());
  ASSERT_TRUE(rx->on_chunk(second, now).ok());
  EXPECT_TRUE(rx->complete());
}

TEST(BlobTransfer, OversizedAndTruncatedStreamsFail) {
  Peers p;
  Bytes data = random_bytes(1000, 7);
  auto token = *p.source.put_bytes(data);
  BlobToken lying = token;
  lying.size = 500;
  Instant now{};
  auto rx = BlobReceiver::start(p.dest, lying, TransferProfile::edge(), now);
  EXPECT_EQ(rx->on_chunk({0, data, true}, now).error().code, "BLOB_TOO_LARGE");
  BlobToken longer = token;
  longer.size = 2000;
  auto rx2 = BlobReceiver::start(p.dest, longer, TransferProfile::edge(), now);
  EXPECT_EQ(rx2->on_chunk({0, data, true}, now).error().code, "BLOB_TRUNCATED");
  EXPECT_EQ(count_files(p.dest.partial_dir()), 0u);
}

TEST(BlobTransfer, AlreadyStoredAndEmptyBlobs) {
  Peers p;
  auto token = *p.source.put_bytes(as_bytes("hello"));
  ASSERT_TRUE(p.dest.put_bytes(as_bytes("hello")).ok());
  Instant now{};
  auto rx = BlobReceiver::start(p.dest, token, TransferProfile::tactical(), now);
  ASSERT_TRUE(rx.ok());
  EXPECT_TRUE(rx->complete());
  EXPECT_EQ(rx->resume_offset(), 5u);

  auto empty = *p.source.put_bytes({});
  EXPECT_EQ(empty.size, 0u);
  auto rx2 = BlobReceiver::start(p.dest, empty, TransferProfile::tactical(), now);
  ASSERT_TRUE(rx2.ok());
  EXPECT_TRUE(rx2->complete());
  EXPECT_TRUE(p.dest.exists(empty.hash));
  auto tx = BlobSender::open(p.source, empty.hash, TransferProfile::tactical(), 0);
  EXPECT_FALSE(tx->next()->has_value());
  EXPECT_EQ(BlobSender::open(p.source, token.hash, TransferProfile::edge(), 6).error().code,
            "INVALID_OFFSET");
}

TEST(BlobTransfer, CheckpointForOtherContentIsIgnored) {
  Peers p;
  Bytes data = random_bytes(70'000, 8);
  auto token = *p.source.put_bytes(data);
  std::string hex = hash_to_hex(token.hash);
  {
    std::ofstream(p.dest.partial_dir() / (hex + ".part")) << "garbage";
    std::ofstream(p.dest.partial_dir() / (hex + ".ckpt"))
        << "{\"hash\":\"" << hex << "\",\"size\":1,\"offset\":7}";
  }
  Instant now{};
  auto rx = BlobReceiver::start(p.dest, token, TransferProfile::edge(), now);
  ASSERT_TRUE(rx.ok());
  EXPECT_FALSE(rx->resumed());
  EXPECT_EQ(rx->resume_offset(), 0u);
  auto tx = BlobSender::open(p.source, token.hash, TransferProfile::edge(), 0);
  for (int i = 0; i < 5 && !rx->complete(); ++i) ASSERT_TRUE(rx->on_chunk(**tx->next(), now).ok());
  EXPECT_EQ(*p.dest.read_all(token.hash), data);
}

}  // namespace
}  // namespace peat::blob
