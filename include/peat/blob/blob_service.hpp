// BlobService: one per node. Serves the local BlobStore to peers and fetches blobs from them over
// any transport::Transport on Channel::kBlobs (messages: blob_message.hpp, docs/blobs.md).
//
// - Flow control: the fetcher grants a window of chunks; the server keeps at most `window` chunks
//   unacknowledged and at most one encoded chunk of its own waiting for on_writable after
//   WOULD_BLOCK. Memory is O(chunk size x window) whatever the blob size.
// - Resume: fetch() asks for the blob from the receiver's checkpoint (BlobReceiver), so after a
//   disconnect, a stall or a crash a new fetch() continues where the verified data ends. A fetch
//   that ends without completing (disconnect, stall, peer error, cancel) checkpoints first.
// - Verification: SHA-256 of the whole blob at the end; on mismatch the partial file is deleted.
// - A peer that breaks the protocol (chunk at the wrong offset, bigger than offered or past the
//   end, chunk before the offer, bad message) has its transfer cut off with an ERROR message
//   and the fetch fails with a clear error code.
//
// Threading: everything runs on the transport's loop. Callbacks may call fetch()/cancel(), but
// must not destroy the service.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "peat/blob/blob_message.hpp"
#include "peat/blob/blob_store.hpp"
#include "peat/blob/transfer.hpp"
#include "peat/common/event_loop.hpp"
#include "peat/transport/transport.hpp"

namespace peat::blob {

struct BlobServiceConfig {
  // chunk_size: what this node serves per CHUNK; checkpoint_interval: how often a fetch
  // checkpoints while receiving.
  TransferProfile profile = TransferProfile::tactical();
  std::uint32_t window = 8;       // chunks this node lets a server have in flight per fetch
  std::uint32_t max_window = 64;  // cap on the window a fetcher may grant this node
  std::size_t max_uploads_per_peer = 8;
  std::uint64_t max_blob_size = std::uint64_t{1} << 40;  // larger offers are refused
  bool serve = true;                                     // answer REQUESTs from peers
  // A transfer that hears nothing from its peer for this long ends ("BLOB_STALLED").
  Duration stall_timeout = std::chrono::seconds(30);
};

struct BlobServiceStats {
  std::uint64_t chunk_bytes_sent = 0;
  std::uint64_t chunk_bytes_received = 0;  // accepted and written
  std::uint64_t uploads_started = 0;
  std::uint64_t uploads_completed = 0;
  std::uint64_t fetches_completed = 0;
  std::uint64_t fetches_failed = 0;
  std::uint64_t bad_messages = 0;
  std::uint64_t would_block = 0;
  std::size_t max_pending_bytes = 0;  // largest encoded backlog held by this service at once
};

using FetchId = std::uint32_t;
using FetchDoneFn = std::function<void(Result<BlobToken>)>;
using FetchProgressFn = std::function<void(const TransferEvent&)>;

struct FetchOptions {
  FetchProgressFn on_progress;  // Started (bytes_done = resume offset), Progress, Checkpointed
  // If set, an offer of another size is refused ("BLOB_SIZE_MISMATCH").
  std::optional<std::uint64_t> expected_size;
};

class BlobService {
 public:
  BlobService(EventLoop& loop, transport::Transport& transport, BlobStore& store,
              BlobServiceConfig config = {});
  ~BlobService();  // no callbacks run; no checkpoint is written (see checkpoint_all)
  BlobService(const BlobService&) = delete;
  BlobService& operator=(const BlobService&) = delete;

  // Transport events to forward here (messages of Channel::kBlobs only).
  void on_message(const transport::PeerId& peer, Bytes message);
  void on_writable(const transport::PeerId& peer);
  void on_disconnected(const transport::PeerId& peer, const std::string& detail);
  // TransportEvents that forward to this service, for a transport used for blobs alone.
  transport::TransportEvents transport_events();

  // Fetches `hash` from `peer` into the store; `done` runs once, on the loop (also when the blob
  // is already local). Errors at once: "NOT_CONNECTED" and other send errors.
  // `done` errors: "DISCONNECTED", "BLOB_STALLED", "CANCELLED", "BLOB_VERIFY_FAILED",
  // "BLOB_PROTOCOL_VIOLATION", "BLOB_SIZE_MISMATCH", "BLOB_TOO_LARGE", "BLOB_TRUNCATED", or the
  // code the peer sent (e.g. "NOT_FOUND").
  Result<FetchId> fetch(const transport::PeerId& peer, const BlobHash& hash, FetchDoneFn done,
                        FetchOptions options = {});
  // Ends a fetch ("CANCELLED"), checkpointing it; unknown ids are ignored.
  void cancel(FetchId id);
  // Writes a checkpoint for every active fetch (before a planned shutdown).
  void checkpoint_all();

  std::size_t active_fetches() const { return fetches_.size(); }
  std::size_t active_uploads() const { return uploads_.size(); }
  const BlobServiceStats& stats() const { return stats_; }
  const BlobServiceConfig& config() const { return config_; }

 private:
  struct Fetch {
    FetchId id = 0;
    std::uint32_t tid = 0;  // transfer id of the current request
    transport::PeerId peer;
    BlobHash hash{};
    FetchDoneFn done;
    FetchOptions options;
    std::uint64_t requested_offset = 0;
    std::optional<BlobReceiver> receiver;
    std::uint32_t chunk_size = 0;
    bool ack_dirty = false;
    Instant last_heard{};
  };
  struct Upload {
    transport::PeerId peer;
    std::uint32_t tid = 0;
    BlobSender sender;
    std::uint64_t acked = 0;
    std::uint32_t window = 1;
    std::size_t chunk_size = 0;
    std::deque<Bytes> pending;  // OFFER, at most one CHUNK, END
    bool end_queued = false;
    Instant last_heard{};
  };
  using UploadKey = std::pair<transport::PeerId, std::uint32_t>;

  void handle(const transport::PeerId& peer, const RequestMsg& m);
  void handle(const transport::PeerId& peer, const OfferMsg& m);
  void handle(const transport::PeerId& peer, const ChunkMsg& m);
  void handle(const transport::PeerId& peer, const EndMsg& m);
  void handle(const transport::PeerId& peer, const ErrorMsg& m);
  void handle(const transport::PeerId& peer, const AckMsg& m);

  Fetch* fetch_by_tid(const transport::PeerId& peer, std::uint32_t tid);
  Status send_request(Fetch& f);
  void finish_fetch(FetchId id, Result<BlobToken> result, bool tell_peer);
  void violation(Fetch& f, const std::string& what);
  void emit_events(Fetch& f);
  void pump(const transport::PeerId& peer);
  // True when the transport answered WOULD_BLOCK; the upload may be gone afterwards.
  bool pump_upload(Upload& u);
  Status send_ctl(const transport::PeerId& peer, Bytes message);
  void send_error(const transport::PeerId& peer, std::uint32_t tid, const std::string& code,
                  const std::string& message);
  void track_pending();
  void arm_tick();
  void tick();

  EventLoop& loop_;
  transport::Transport& transport_;
  BlobStore& store_;
  BlobServiceConfig config_;
  std::map<FetchId, Fetch> fetches_;
  std::map<std::uint32_t, FetchId> by_tid_;
  std::map<UploadKey, Upload> uploads_;
  std::map<transport::PeerId, std::deque<Bytes>> outbox_;
  std::uint32_t next_tid_ = 1;
  FetchId next_fetch_ = 1;
  TimerId tick_timer_ = 0;
  BlobServiceStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace peat::blob
