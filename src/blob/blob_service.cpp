#include "peat/blob/blob_service.hpp"

#include <algorithm>
#include <utility>

namespace peat::blob {

using transport::Channel;
using transport::PeerId;

namespace {

constexpr const char* kViolation = "BLOB_PROTOCOL_VIOLATION";

bool is_would_block(const Status& st) {
  return !st.ok() && st.error().code == "WOULD_BLOCK";
}

}  // namespace

BlobService::BlobService(EventLoop& loop, transport::Transport& transport, BlobStore& store,
                         BlobServiceConfig config)
    : loop_(loop), transport_(transport), store_(store), config_(std::move(config)) {
  config_.window = std::max<std::uint32_t>(1, config_.window);
  config_.max_window = std::max<std::uint32_t>(1, config_.max_window);
  if (config_.profile.chunk_size == 0 || config_.profile.chunk_size > kMaxChunkSize) {
    config_.profile.chunk_size = TransferProfile::tactical().chunk_size;
  }
}

BlobService::~BlobService() {
  *alive_ = false;
  if (tick_timer_ != 0) loop_.cancel(tick_timer_);
}

transport::TransportEvents BlobService::transport_events() {
  transport::TransportEvents ev;
  ev.on_message = [this](const PeerId& peer, Channel channel, Bytes message) {
    if (channel == Channel::kBlobs) on_message(peer, std::move(message));
  };
  ev.on_writable = [this](const PeerId& peer) { on_writable(peer); };
  ev.on_disconnected = [this](const PeerId& peer, transport::DisconnectReason reason,
                              const std::string& detail) {
    on_disconnected(
        peer, std::string(transport::to_string(reason)) + (detail.empty() ? "" : ": " + detail));
  };
  return ev;
}

// ---- sending helpers --------------------------------------------------------------------------

Status BlobService::send_ctl(const PeerId& peer, Bytes message) {
  auto box = outbox_.find(peer);
  if (box != outbox_.end()) {  // earlier messages wait: keep the order
    box->second.push_back(std::move(message));
    track_pending();
    return {};
  }
  Status st = transport_.send(peer, Channel::kBlobs, message);
  if (is_would_block(st)) {
    ++stats_.would_block;
    outbox_[peer].push_back(std::move(message));
    track_pending();
    return {};
  }
  return st;
}

void BlobService::send_error(const PeerId& peer, std::uint32_t tid, const std::string& code,
                             const std::string& message) {
  (void)send_ctl(peer, encode(ErrorMsg{tid, code, message}));
}

void BlobService::track_pending() {
  std::size_t total = 0;
  for (const auto& [peer, box] : outbox_) {
    for (const auto& m : box) total += m.size();
  }
  for (const auto& [key, u] : uploads_) {
    for (const auto& m : u.pending) total += m.size();
  }
  stats_.max_pending_bytes = std::max(stats_.max_pending_bytes, total);
}

void BlobService::on_writable(const PeerId& peer) {
  pump(peer);
}

void BlobService::pump(const PeerId& peer) {
  auto alive = alive_;
  // 1. Control messages, in order.
  auto box_it = outbox_.find(peer);
  if (box_it != outbox_.end()) {
    auto& box = box_it->second;
    while (!box.empty()) {
      Status st = transport_.send(peer, Channel::kBlobs, box.front());
      if (is_would_block(st)) {
        ++stats_.would_block;
        return;
      }
      box.pop_front();  // sent, or the connection is gone (on_disconnected follows)
    }
    outbox_.erase(box_it);
  }
  // 2. Acknowledgements (coalesced: the newest offset only).
  for (auto& [id, f] : fetches_) {
    if (f.peer != peer || !f.ack_dirty || !f.receiver) continue;
    Status st = transport_.send(peer, Channel::kBlobs,
                                encode(AckMsg{f.tid, f.receiver->resume_offset(), config_.window}));
    if (is_would_block(st)) {
      ++stats_.would_block;
      return;
    }
    f.ack_dirty = false;
  }
  // 3. Uploads to this peer.
  std::vector<std::uint32_t> tids;
  for (auto it = uploads_.lower_bound({peer, 0}); it != uploads_.end() && it->first.first == peer;
       ++it) {
    tids.push_back(it->first.second);
  }
  for (std::uint32_t tid : tids) {
    auto it = uploads_.find({peer, tid});
    if (it == uploads_.end()) continue;
    if (pump_upload(it->second)) return;  // blocked: on_writable resumes here
    if (!*alive) return;
  }
}

bool BlobService::pump_upload(Upload& u) {
  while (true) {
    if (!u.pending.empty()) {
      Status st = transport_.send(u.peer, Channel::kBlobs, u.pending.front());
      if (is_would_block(st)) {
        ++stats_.would_block;
        return true;
      }
      if (!st.ok()) {
        uploads_.erase({u.peer, u.tid});
        return false;
      }
      u.pending.pop_front();
      continue;
    }
    const std::uint64_t sent = u.sender.offset();
    const std::uint64_t limit = u.acked + std::uint64_t{u.window} * u.chunk_size;
    if (sent < u.sender.total() && sent < limit) {
      auto chunk = u.sender.next();
      if (!chunk.ok() || !*chunk) {
        std::string why = chunk.ok() ? "no data" : chunk.error().to_string();
        PeerId peer = u.peer;
        std::uint32_t tid = u.tid;
        uploads_.erase({peer, tid});
        send_error(peer, tid, "BLOB_IO", "reading the blob failed: " + why);
        return false;
      }
      stats_.chunk_bytes_sent += (*chunk)->data.size();
      u.pending.push_back(encode(ChunkMsg{u.tid, (*chunk)->offset, (*chunk)->data}));
      track_pending();
      continue;
    }
    if (sent == u.sender.total() && !u.end_queued) {
      u.end_queued = true;
      u.pending.push_back(encode(EndMsg{u.tid, u.sender.total()}));
      continue;
    }
    if (u.end_queued && u.acked == u.sender.total()) {
      ++stats_.uploads_completed;
      uploads_.erase({u.peer, u.tid});
    }
    return false;
  }
}

// ---- receiving --------------------------------------------------------------------------------

void BlobService::on_message(const PeerId& peer, Bytes message) {
  auto decoded = decode_message(message);
  if (!decoded.ok()) {
    ++stats_.bad_messages;
    if (message.size() >= 6) {  // the header names the transfer: cut that transfer off
      std::uint32_t tid = (std::uint32_t{message[2]} << 24) | (std::uint32_t{message[3]} << 16) |
                          (std::uint32_t{message[4]} << 8) | std::uint32_t{message[5]};
      if (Fetch* f = fetch_by_tid(peer, tid)) {
        violation(*f, decoded.error().to_string());
      } else if (uploads_.erase({peer, tid}) > 0) {
        send_error(peer, tid, kViolation, decoded.error().to_string());
      }
    }
    return;
  }
  std::visit([&](const auto& m) { handle(peer, m); }, *decoded);
}

BlobService::Fetch* BlobService::fetch_by_tid(const PeerId& peer, std::uint32_t tid) {
  auto it = by_tid_.find(tid);
  if (it == by_tid_.end()) return nullptr;
  auto f = fetches_.find(it->second);
  if (f == fetches_.end() || f->second.peer != peer || f->second.tid != tid) return nullptr;
  return &f->second;
}

void BlobService::handle(const PeerId& peer, const RequestMsg& m) {
  uploads_.erase({peer, m.transfer_id});  // a repeated id replaces the old transfer
  if (!config_.serve) {
    send_error(peer, m.transfer_id, "NOT_SERVING", "this node does not serve blobs");
    return;
  }
  std::size_t mine = 0;
  for (auto it = uploads_.lower_bound({peer, 0}); it != uploads_.end() && it->first.first == peer;
       ++it) {
    ++mine;
  }
  if (mine >= config_.max_uploads_per_peer) {
    send_error(peer, m.transfer_id, "BUSY",
               "already serving " + std::to_string(mine) + " transfers to this peer");
    return;
  }
  auto token = store_.info(m.hash);
  if (!token.ok()) {
    send_error(peer, m.transfer_id, "NOT_FOUND", "no blob " + hash_to_hex(m.hash));
    return;
  }
  auto sender = BlobSender::open(store_, m.hash, config_.profile, m.offset);
  if (!sender.ok()) {
    send_error(peer, m.transfer_id, sender.error().code, sender.error().message);
    return;
  }
  Upload u{peer,
           m.transfer_id,
           std::move(*sender),
           m.offset,
           std::min(m.window, config_.max_window),
           config_.profile.chunk_size,
           {},
           false,
           loop_.now()};
  u.pending.push_back(
      encode(OfferMsg{m.transfer_id, m.hash, token->size, m.offset,
                      static_cast<std::uint32_t>(config_.profile.chunk_size), token->metadata}));
  ++stats_.uploads_started;
  uploads_.emplace(UploadKey{peer, m.transfer_id}, std::move(u));
  arm_tick();
  pump(peer);
}

void BlobService::handle(const PeerId& peer, const AckMsg& m) {
  auto it = uploads_.find({peer, m.transfer_id});
  if (it == uploads_.end()) return;  // finished or cancelled: a late ack
  Upload& u = it->second;
  if (m.offset < u.acked || m.offset > u.sender.offset()) {
    std::string what = "ACK of offset " + std::to_string(m.offset) + " outside [" +
                       std::to_string(u.acked) + ", " + std::to_string(u.sender.offset()) + "]";
    uploads_.erase(it);
    send_error(peer, m.transfer_id, kViolation, what);
    return;
  }
  u.acked = m.offset;
  u.window = std::min(m.window, config_.max_window);
  u.last_heard = loop_.now();
  pump(peer);
}

void BlobService::handle(const PeerId& peer, const OfferMsg& m) {
  Fetch* f = fetch_by_tid(peer, m.transfer_id);
  if (!f) return;
  f->last_heard = loop_.now();
  if (f->receiver) return violation(*f, "a second OFFER");
  if (m.hash != f->hash) return violation(*f, "OFFER for another blob " + hash_to_hex(m.hash));
  if (m.offset != f->requested_offset) {
    return violation(*f, "OFFER starts at " + std::to_string(m.offset) + ", requested " +
                             std::to_string(f->requested_offset));
  }
  const FetchId id = f->id;
  if (f->options.expected_size && *f->options.expected_size != m.size) {
    return finish_fetch(id,
                        make_error("BLOB_SIZE_MISMATCH",
                                   "peer offers " + std::to_string(m.size) + " bytes, expected " +
                                       std::to_string(*f->options.expected_size)),
                        true);
  }
  if (m.size > config_.max_blob_size) {
    return finish_fetch(id,
                        make_error("BLOB_TOO_LARGE", "peer offers " + std::to_string(m.size) +
                                                         " bytes, the limit is " +
                                                         std::to_string(config_.max_blob_size)),
                        true);
  }
  auto receiver = BlobReceiver::start(store_, BlobToken{m.hash, m.size, m.metadata},
                                      config_.profile, loop_.now());
  if (!receiver.ok()) return finish_fetch(id, receiver.error(), true);
  f->chunk_size = m.chunk_size;
  f->receiver.emplace(std::move(*receiver));
  emit_events(*f);
  f = fetch_by_tid(peer, m.transfer_id);
  if (!f) return;
  if (f->receiver->complete()) {
    return finish_fetch(id, f->receiver->token(), true);
  }
  if (f->receiver->resume_offset() != m.offset) {
    // The checkpoint did not fit this offer (another size): ask again from where we stand.
    send_error(peer, f->tid, "RESTART", "resuming from another offset");
    by_tid_.erase(f->tid);
    f->requested_offset = f->receiver->resume_offset();
    f->receiver.reset();
    Status st = send_request(*f);
    if (!st.ok()) finish_fetch(id, st.error(), false);
  }
}

void BlobService::handle(const PeerId& peer, const ChunkMsg& m) {
  Fetch* f = fetch_by_tid(peer, m.transfer_id);
  if (!f) return;
  f->last_heard = loop_.now();
  if (!f->receiver) return violation(*f, "CHUNK before OFFER");
  BlobReceiver& r = *f->receiver;
  if (m.data.size() > f->chunk_size) {
    return violation(*f, "CHUNK of " + std::to_string(m.data.size()) +
                             " bytes, more than the offered chunk size " +
                             std::to_string(f->chunk_size));
  }
  if (m.offset != r.resume_offset()) {
    return violation(*f, "CHUNK at offset " + std::to_string(m.offset) + ", expected " +
                             std::to_string(r.resume_offset()));
  }
  if (m.data.size() > r.token().size - m.offset) {
    return violation(
        *f, "CHUNK runs past the offered size of " + std::to_string(r.token().size) + " bytes");
  }
  const FetchId id = f->id;
  Status st = r.on_data(m.offset, m.data, false, loop_.now());
  if (st.ok()) stats_.chunk_bytes_received += m.data.size();
  emit_events(*f);
  f = fetch_by_tid(peer, m.transfer_id);
  if (!f) return;
  if (!st.ok()) return finish_fetch(id, st.error(), true);
  if (f->receiver->complete()) {
    f->ack_dirty = true;
    pump(peer);  // the final ACK lets the server close its side
    f = fetch_by_tid(peer, m.transfer_id);
    if (!f) return;
    return finish_fetch(id, f->receiver->token(), false);
  }
  f->ack_dirty = true;
  pump(peer);
}

void BlobService::handle(const PeerId& peer, const EndMsg& m) {
  Fetch* f = fetch_by_tid(peer, m.transfer_id);
  if (!f) return;  // completed already
  const std::uint64_t have = f->receiver ? f->receiver->resume_offset() : 0;
  finish_fetch(f->id,
               make_error("BLOB_TRUNCATED", "peer ended the blob at " + std::to_string(m.size) +
                                                " bytes, " + std::to_string(have) + " received"),
               true);
}

void BlobService::handle(const PeerId& peer, const ErrorMsg& m) {
  if (Fetch* f = fetch_by_tid(peer, m.transfer_id)) {
    finish_fetch(f->id, make_error(m.code, "peer " + peer + ": " + m.message), false);
    return;
  }
  uploads_.erase({peer, m.transfer_id});
}

// ---- fetch lifecycle --------------------------------------------------------------------------

Result<FetchId> BlobService::fetch(const PeerId& peer, const BlobHash& hash, FetchDoneFn done,
                                   FetchOptions options) {
  const FetchId id = next_fetch_++;
  if (store_.exists(hash)) {
    auto token = store_.info(hash);
    auto alive = alive_;
    loop_.post([alive, done = std::move(done), token = std::move(token)]() mutable {
      if (*alive && done) done(std::move(token));
    });
    return id;
  }
  Fetch f;
  f.id = id;
  f.peer = peer;
  f.hash = hash;
  f.done = std::move(done);
  f.options = std::move(options);
  f.last_heard = loop_.now();
  if (auto point = BlobReceiver::peek_checkpoint(store_, hash)) {
    if (!f.options.expected_size || *f.options.expected_size == point->size) {
      f.requested_offset = point->offset;
    }
  }
  auto [it, inserted] = fetches_.emplace(id, std::move(f));
  Status st = send_request(it->second);
  if (!st.ok()) {
    by_tid_.erase(it->second.tid);
    fetches_.erase(it);
    return st.error();
  }
  arm_tick();
  return id;
}

Status BlobService::send_request(Fetch& f) {
  f.tid = next_tid_++;
  if (next_tid_ == 0) next_tid_ = 1;
  by_tid_[f.tid] = f.id;
  return send_ctl(f.peer, encode(RequestMsg{f.tid, f.hash, f.requested_offset, config_.window}));
}

void BlobService::emit_events(Fetch& f) {
  if (!f.receiver) return;
  auto events = f.receiver->take_events();
  if (!f.options.on_progress) return;
  const FetchId id = f.id;
  auto progress = f.options.on_progress;  // the callback may end the fetch
  auto alive = alive_;
  for (const auto& e : events) {
    if (e.kind == TransferEventKind::kCompleted || e.kind == TransferEventKind::kFailed) continue;
    progress(e);
    if (!*alive || !fetches_.count(id)) return;
  }
}

void BlobService::violation(Fetch& f, const std::string& what) {
  finish_fetch(f.id, make_error(kViolation, "peer " + f.peer + ": " + what), true);
}

void BlobService::finish_fetch(FetchId id, Result<BlobToken> result, bool tell_peer) {
  auto it = fetches_.find(id);
  if (it == fetches_.end()) return;
  Fetch f = std::move(it->second);
  fetches_.erase(it);
  by_tid_.erase(f.tid);
  if (!result.ok()) {
    ++stats_.fetches_failed;
    if (f.receiver) (void)f.receiver->checkpoint();  // keep what was received for a resume
    if (tell_peer) send_error(f.peer, f.tid, result.error().code, result.error().message);
  } else {
    ++stats_.fetches_completed;
  }
  f.receiver.reset();
  if (f.done) f.done(std::move(result));
}

void BlobService::cancel(FetchId id) {
  finish_fetch(id, make_error("CANCELLED", "fetch cancelled"), true);
}

void BlobService::checkpoint_all() {
  for (auto& [id, f] : fetches_) {
    if (f.receiver) (void)f.receiver->checkpoint();
    emit_events(f);
  }
}

void BlobService::on_disconnected(const PeerId& peer, const std::string& detail) {
  outbox_.erase(peer);
  for (auto it = uploads_.lower_bound({peer, 0});
       it != uploads_.end() && it->first.first == peer;) {
    it = uploads_.erase(it);
  }
  std::vector<FetchId> ids;
  for (const auto& [id, f] : fetches_) {
    if (f.peer == peer) ids.push_back(id);
  }
  for (FetchId id : ids) {
    finish_fetch(id, make_error("DISCONNECTED", "peer " + peer + " disconnected: " + detail),
                 false);
  }
}

// ---- stall detection --------------------------------------------------------------------------

void BlobService::arm_tick() {
  if (tick_timer_ != 0) return;
  Duration every = std::max<Duration>(config_.stall_timeout / 4, std::chrono::milliseconds(10));
  auto alive = alive_;
  tick_timer_ = loop_.call_after(every, [this, alive] {
    if (!*alive) return;
    tick_timer_ = 0;
    tick();
  });
}

void BlobService::tick() {
  const Instant now = loop_.now();
  std::vector<FetchId> stalled;
  for (const auto& [id, f] : fetches_) {
    if (now - f.last_heard >= config_.stall_timeout) stalled.push_back(id);
  }
  for (auto it = uploads_.begin(); it != uploads_.end();) {
    if (now - it->second.last_heard >= config_.stall_timeout) {
      it = uploads_.erase(it);
    } else {
      ++it;
    }
  }
  auto alive = alive_;
  for (FetchId id : stalled) {
    finish_fetch(id, make_error("BLOB_STALLED", "nothing heard from the peer in time"), true);
    if (!*alive) return;
  }
  if (!fetches_.empty() || !uploads_.empty()) arm_tick();
}

}  // namespace peat::blob
