#include "peat/blob/transfer.hpp"

#include <nlohmann/json.hpp>

#include <fstream>

#include "blob/file_io.hpp"

namespace peat::blob {

namespace fs = std::filesystem;

// ---- sender ---------------------------------------------------------------------------------

Result<BlobSender> BlobSender::open(const BlobStore& store, const BlobHash& hash,
                                    TransferProfile profile, std::uint64_t start_offset) {
  if (profile.chunk_size == 0) return make_error("INVALID_ARGUMENT", "chunk size must be > 0");
  auto token = store.info(hash);
  if (!token.ok()) return token.error();
  if (start_offset > token->size) {
    return make_error("INVALID_OFFSET", "resume offset " + std::to_string(start_offset) +
                                            " is past the end of a " + std::to_string(token->size) +
                                            "-byte blob");
  }
  return BlobSender(store, hash, profile, start_offset, token->size);
}

Result<std::optional<BlobChunk>> BlobSender::next() {
  if (offset_ >= total_) return std::optional<BlobChunk>{};
  std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>(profile_.chunk_size, total_ - offset_));
  auto data = store_->read_range(hash_, offset_, want);
  if (!data.ok()) return data.error();
  if (data->size() != want) return make_error("BLOB_IO", "blob file shrank while sending");
  BlobChunk chunk;
  chunk.offset = offset_;
  chunk.data = std::move(*data);
  offset_ += want;
  chunk.last = offset_ == total_;
  return std::optional<BlobChunk>{std::move(chunk)};
}

// ---- receiver -------------------------------------------------------------------------------

namespace {

struct Checkpoint {
  std::string hash;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;
};

std::optional<Checkpoint> read_checkpoint(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    return Checkpoint{j.at("hash").get<std::string>(), j.at("size").get<std::uint64_t>(),
                      j.at("offset").get<std::uint64_t>()};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

BlobReceiver::BlobReceiver(BlobReceiver&&) noexcept = default;
BlobReceiver& BlobReceiver::operator=(BlobReceiver&&) noexcept = default;
BlobReceiver::~BlobReceiver() = default;

Result<BlobReceiver> BlobReceiver::start(BlobStore& store, const BlobToken& token,
                                         TransferProfile profile, Instant now) {
  if (profile.chunk_size == 0) return make_error("INVALID_ARGUMENT", "chunk size must be > 0");
  BlobReceiver r;
  r.store_ = &store;
  r.token_ = token;
  r.profile_ = profile;
  r.last_checkpoint_ = now;
  std::string hex = hash_to_hex(token.hash);
  r.part_path_ = store.partial_dir() / (hex + ".part");
  r.ckpt_path_ = store.partial_dir() / (hex + ".ckpt");

  if (store.exists(token.hash)) {
    r.offset_ = token.size;
    r.complete_ = true;
    r.events_.push_back({TransferEventKind::kStarted, token.size, token.size, {}});
    r.events_.push_back({TransferEventKind::kCompleted, token.size, token.size, {}});
    return r;
  }

  r.hasher_ = std::make_unique<Sha256>();
  std::error_code ec;
  auto ckpt = read_checkpoint(r.ckpt_path_);
  if (ckpt && ckpt->hash == hex && ckpt->size == token.size && ckpt->offset <= token.size &&
      fs::exists(r.part_path_, ec)) {
    auto file = detail::File::open_append(r.part_path_);
    if (!file.ok()) return file.error();
    auto size = file->size();
    if (size.ok() && *size >= ckpt->offset) {
      // Bytes after the checkpoint were never vouched for: drop them and re-hash the rest.
      PEAT_TRY_STATUS(file->truncate(ckpt->offset));
      std::uint64_t pos = 0;
      while (pos < ckpt->offset) {
        std::size_t want = static_cast<std::size_t>(
            std::min<std::uint64_t>(profile.chunk_size, ckpt->offset - pos));
        auto data = file->read_at(pos, want);
        if (!data.ok()) return data.error();
        if (data->size() != want) return make_error("BLOB_IO", "partial file shrank on resume");
        r.hasher_->update(*data);
        pos += want;
      }
      r.offset_ = ckpt->offset;
      r.resumed_ = true;
      r.file_ = std::make_unique<detail::File>(std::move(*file));
    }
  }
  if (!r.file_) {
    fs::remove(r.ckpt_path_, ec);
    auto file = detail::File::create(r.part_path_);
    if (!file.ok()) return file.error();
    r.file_ = std::make_unique<detail::File>(std::move(*file));
  }
  r.events_.push_back({TransferEventKind::kStarted, r.offset_, token.size, {}});
  if (r.offset_ == token.size) {
    Status st = r.finish();
    if (!st.ok()) return st.error();
  }
  return r;
}

std::optional<BlobReceiver::ResumePoint> BlobReceiver::peek_checkpoint(const BlobStore& store,
                                                                       const BlobHash& hash) {
  std::string hex = hash_to_hex(hash);
  auto ckpt = read_checkpoint(store.partial_dir() / (hex + ".ckpt"));
  if (!ckpt || ckpt->hash != hex || ckpt->offset > ckpt->size) return std::nullopt;
  std::error_code ec;
  auto part_size = fs::file_size(store.partial_dir() / (hex + ".part"), ec);
  if (ec || part_size < ckpt->offset) return std::nullopt;
  return ResumePoint{ckpt->size, ckpt->offset};
}

std::vector<TransferEvent> BlobReceiver::take_events() {
  std::vector<TransferEvent> out;
  out.swap(events_);
  return out;
}

Status BlobReceiver::fail(Error error) {
  failed_ = true;
  if (file_) file_->close_and_remove();
  file_.reset();
  std::error_code ec;
  fs::remove(ckpt_path_, ec);
  events_.push_back({TransferEventKind::kFailed, offset_, token_.size, error.to_string()});
  return error;
}

Status BlobReceiver::finish() {
  BlobHash digest = hasher_->finish();
  if (digest != token_.hash) {
    return fail(make_error("BLOB_VERIFY_FAILED", "received " + std::to_string(offset_) +
                                                     " bytes hash to " + hash_to_hex(digest) +
                                                     ", expected " + hash_to_hex(token_.hash)));
  }
  Status st = file_->sync();
  if (!st.ok()) return fail(st.error());
  file_->close();
  file_.reset();
  auto adopted = store_->adopt(part_path_, token_.hash, token_.metadata);
  if (!adopted.ok()) return fail(adopted.error());
  std::error_code ec;
  fs::remove(ckpt_path_, ec);
  complete_ = true;
  events_.push_back({TransferEventKind::kCompleted, offset_, token_.size, {}});
  return {};
}

Status BlobReceiver::on_chunk(const BlobChunk& chunk, Instant now) {
  return on_data(chunk.offset, chunk.data, chunk.last, now);
}

Status BlobReceiver::on_data(std::uint64_t offset, ByteView data, bool last, Instant now) {
  if (complete_ || failed_) return make_error("TRANSFER_OVER", "this transfer has ended");
  if (offset != offset_) {
    return make_error("OUT_OF_ORDER", "expected the chunk at offset " + std::to_string(offset_) +
                                          ", got " + std::to_string(offset));
  }
  if (data.size() > token_.size - offset_) {
    return fail(make_error("BLOB_TOO_LARGE", "chunk runs past the announced size of " +
                                                 std::to_string(token_.size) + " bytes"));
  }
  Status st = file_->append(data);
  if (!st.ok()) return fail(st.error());
  hasher_->update(data);
  offset_ += data.size();
  events_.push_back({TransferEventKind::kProgress, offset_, token_.size, {}});
  if (offset_ == token_.size) return finish();
  if (last) {
    return fail(make_error("BLOB_TRUNCATED", "sender ended at " + std::to_string(offset_) + " of " +
                                                 std::to_string(token_.size) + " bytes"));
  }
  if (now - last_checkpoint_ >= profile_.checkpoint_interval) {
    last_checkpoint_ = now;
    return checkpoint();
  }
  return {};
}

Status BlobReceiver::checkpoint() {
  if (complete_ || failed_ || !file_) return {};
  PEAT_TRY_STATUS(file_->sync());  // the checkpoint may only vouch for durable bytes
  nlohmann::json j;
  j["hash"] = hash_to_hex(token_.hash);
  j["size"] = token_.size;
  j["offset"] = offset_;
  std::string text = j.dump();
  PEAT_TRY_STATUS(detail::write_file_atomic(ckpt_path_, as_bytes(text)));
  events_.push_back({TransferEventKind::kCheckpointed, offset_, token_.size, {}});
  return {};
}

}  // namespace peat::blob
