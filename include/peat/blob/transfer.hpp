// Streaming blob transfer as sans-I/O state machines. The sender turns a stored blob into chunks;
// the receiver takes chunks (from any transport), writes them to a partial file, hashes them
// incrementally (O(chunk) memory), checkpoints its progress on a timer, and on the last byte
// verifies SHA-256 and moves the blob into the store. After a crash or disconnect a new receiver
// resumes from the checkpoint: it re-hashes the partial file up to the checkpoint offset and
// asks the sender for the rest (resume_offset()).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "peat/blob/blob_store.hpp"
#include "peat/common/clock.hpp"

namespace peat::blob {

namespace detail {
class File;
}

struct TransferProfile {
  std::size_t chunk_size = 256 * 1024;
  Duration checkpoint_interval = std::chrono::seconds(30);

  static TransferProfile datacenter() { return {1024 * 1024, std::chrono::seconds(60)}; }
  static TransferProfile tactical() { return {256 * 1024, std::chrono::seconds(30)}; }
  static TransferProfile edge() { return {64 * 1024, std::chrono::seconds(10)}; }
};

struct BlobChunk {
  std::uint64_t offset = 0;
  Bytes data;
  bool last = false;
};

enum class TransferEventKind : std::uint8_t {
  kStarted,       // bytes_done = resume offset
  kProgress,      // after every chunk
  kCheckpointed,  // checkpoint file written at bytes_done
  kCompleted,     // verified and stored
  kFailed,        // error says why; the partial file is gone
};

struct TransferEvent {
  TransferEventKind kind = TransferEventKind::kProgress;
  std::uint64_t bytes_done = 0;
  std::uint64_t total = 0;
  std::string error;
};

// Produces the chunks of a stored blob, starting at any offset.
class BlobSender {
 public:
  static Result<BlobSender> open(const BlobStore& store, const BlobHash& hash,
                                 TransferProfile profile, std::uint64_t start_offset = 0);
  // The next chunk, or nullopt when everything was sent.
  Result<std::optional<BlobChunk>> next();
  std::uint64_t offset() const { return offset_; }
  std::uint64_t total() const { return total_; }

 private:
  BlobSender(const BlobStore& store, BlobHash hash, TransferProfile p, std::uint64_t off,
             std::uint64_t total)
      : store_(&store), hash_(hash), profile_(p), offset_(off), total_(total) {}
  const BlobStore* store_;
  BlobHash hash_;
  TransferProfile profile_;
  std::uint64_t offset_;
  std::uint64_t total_;
  bool done_ = false;
};

class BlobReceiver {
 public:
  // Starts or resumes receiving `token` into `store`. If the blob is already stored the receiver
  // is complete at once (resume_offset() == size).
  static Result<BlobReceiver> start(BlobStore& store, const BlobToken& token,
                                    TransferProfile profile, Instant now);
  // The checkpoint a start() for `hash` would resume from, without touching anything:
  // {size announced, offset}, or nullopt when there is no usable checkpoint.
  struct ResumePoint {
    std::uint64_t size = 0;
    std::uint64_t offset = 0;
  };
  static std::optional<ResumePoint> peek_checkpoint(const BlobStore& store, const BlobHash& hash);
  BlobReceiver(BlobReceiver&&) noexcept;
  BlobReceiver& operator=(BlobReceiver&&) noexcept;
  ~BlobReceiver();

  // Where the sender must start.
  std::uint64_t resume_offset() const { return offset_; }
  bool complete() const { return complete_; }
  bool resumed() const { return resumed_; }
  bool failed() const { return failed_; }
  const BlobToken& token() const { return token_; }
  // Events since the last call (Started is queued by start()).
  std::vector<TransferEvent> take_events();

  // Accepts the chunk at resume_offset(). Errors: "OUT_OF_ORDER" (wrong offset; nothing
  // changes), "BLOB_TOO_LARGE" / "BLOB_VERIFY_FAILED" (the partial file is deleted and the
  // transfer is over), I/O errors.
  Status on_chunk(const BlobChunk& chunk, Instant now);
  // The same without owning the bytes (`last`: the sender says nothing follows).
  Status on_data(std::uint64_t offset, ByteView data, bool last, Instant now);
  // Writes a checkpoint now (e.g. before a planned shutdown).
  Status checkpoint();

 private:
  BlobReceiver() = default;
  Status fail(Error error);
  Status finish();

  BlobStore* store_ = nullptr;
  BlobToken token_;
  TransferProfile profile_;
  std::filesystem::path part_path_;
  std::filesystem::path ckpt_path_;
  std::unique_ptr<detail::File> file_;
  std::unique_ptr<Sha256> hasher_;
  std::uint64_t offset_ = 0;
  Instant last_checkpoint_{};
  bool complete_ = false;
  bool failed_ = false;
  bool resumed_ = false;
  std::vector<TransferEvent> events_;
};

}  // namespace peat::blob
