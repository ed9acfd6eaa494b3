#include "peat/blob/blob_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

#include "blob/file_io.hpp"

namespace peat::blob {

namespace fs = std::filesystem;

std::string hash_to_hex(const BlobHash& hash) {
  return to_hex(hash);
}

Result<BlobHash> hash_from_hex(std::string_view hex) {
  if (hex.size() != 64) return make_error("INVALID_HASH", "blob hash must be 64 hex characters");
  auto bytes = from_hex(hex);
  if (!bytes.ok()) return make_error("INVALID_HASH", "blob hash is not hex");
  BlobHash h;
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

namespace {

nlohmann::json metadata_json(const BlobMetadata& m) {
  nlohmann::json j = nlohmann::json::object();
  j["name"] = m.name ? nlohmann::json(*m.name) : nlohmann::json(nullptr);
  j["content_type"] = m.content_type ? nlohmann::json(*m.content_type) : nlohmann::json(nullptr);
  j["custom"] = m.custom;
  return j;
}

BlobMetadata metadata_from(const nlohmann::json& j) {
  BlobMetadata m;
  if (!j.is_object()) return m;
  if (j.contains("name") && j["name"].is_string()) m.name = j["name"].get<std::string>();
  if (j.contains("content_type") && j["content_type"].is_string()) {
    m.content_type = j["content_type"].get<std::string>();
  }
  if (j.contains("custom") && j["custom"].is_object()) {
    for (const auto& [k, v] : j["custom"].items()) {
      if (v.is_string()) m.custom[k] = v.get<std::string>();
    }
  }
  return m;
}

std::string temp_name() {
  static std::atomic<std::uint64_t> counter{0};
  std::random_device rd;
  return ".import-" + std::to_string(getpid()) + "-" + std::to_string(rd()) + "-" +
         std::to_string(counter++);
}

}  // namespace

Result<BlobStore> BlobStore::open(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir / "partial", ec);
  if (ec) return make_error("BLOB_IO", "cannot create " + dir.string() + ": " + ec.message());
  // Temporary imports are never resumable: a crash mid-import leaves garbage only.
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().filename().string().rfind(".import-", 0) == 0) fs::remove(entry.path(), ec);
  }
  return BlobStore(dir);
}

fs::path BlobStore::path_of(const BlobHash& hash) const {
  return dir_ / hash_to_hex(hash);
}

Status BlobStore::write_sidecar(const BlobToken& token) const {
  nlohmann::json j;
  j["metadata"] = metadata_json(token.metadata);
  j["size_bytes"] = token.size;
  j["created_at"] =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  std::string text = j.dump(2);
  fs::path final_path = dir_ / (hash_to_hex(token.hash) + ".meta.json");
  return detail::write_file_atomic(final_path, as_bytes(text));
}

Result<BlobToken> BlobStore::adopt(const fs::path& verified_file, const BlobHash& hash,
                                   const BlobMetadata& metadata) {
  std::error_code ec;
  auto size = fs::file_size(verified_file, ec);
  if (ec) return make_error("BLOB_IO", "stat " + verified_file.string() + ": " + ec.message());
  BlobToken token{hash, size, metadata};
  PEAT_TRY_STATUS(write_sidecar(token));
  fs::rename(verified_file, path_of(hash), ec);
  if (ec) return make_error("BLOB_IO", "rename into store: " + ec.message());
  PEAT_TRY_STATUS(detail::fsync_dir(dir_));
  return token;
}

Result<BlobToken> BlobStore::put_stream(const ReadFn& read, const BlobMetadata& metadata,
                                        std::size_t chunk_size) {
  if (chunk_size == 0) return make_error("INVALID_ARGUMENT", "chunk size must be > 0");
  fs::path tmp = dir_ / temp_name();
  auto file = detail::File::create(tmp);
  if (!file.ok()) return file.error();
  Sha256 hasher;
  Bytes buf(chunk_size);
  for (;;) {
    auto n = read(buf);
    if (!n.ok()) {
      file->close_and_remove();
      return n.error();
    }
    if (*n == 0) break;
    ByteView chunk(buf.data(), *n);
    hasher.update(chunk);
    Status st = file->append(chunk);
    if (!st.ok()) {
      file->close_and_remove();
      return st.error();
    }
  }
  Status st = file->sync();
  if (!st.ok()) {
    file->close_and_remove();
    return st.error();
  }
  file->close();
  BlobHash hash = hasher.finish();
  if (exists(hash)) {
    std::error_code ec;
    fs::remove(tmp, ec);
    return info(hash);
  }
  return adopt(tmp, hash, metadata);
}

Result<BlobToken> BlobStore::put_bytes(ByteView data, const BlobMetadata& metadata) {
  std::size_t pos = 0;
  return put_stream(
      [&](std::span<std::uint8_t> out) -> Result<std::size_t> {
        std::size_t n = std::min(out.size(), data.size() - pos);
        std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(pos), n, out.begin());
        pos += n;
        return n;
      },
      metadata);
}

Result<BlobToken> BlobStore::put_file(const fs::path& path, const BlobMetadata& metadata) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("BLOB_IO", "cannot open " + path.string());
  return put_stream(
      [&](std::span<std::uint8_t> out) -> Result<std::size_t> {
        in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
        if (in.bad()) return make_error("BLOB_IO", "read error on " + path.string());
        return static_cast<std::size_t>(in.gcount());
      },
      metadata);
}

bool BlobStore::exists(const BlobHash& hash) const {
  std::error_code ec;
  return fs::is_regular_file(path_of(hash), ec);
}

Result<BlobToken> BlobStore::info(const BlobHash& hash) const {
  std::error_code ec;
  auto size = fs::file_size(path_of(hash), ec);
  if (ec) return make_error("NOT_FOUND", "no blob " + hash_to_hex(hash));
  BlobToken token{hash, size, {}};
  std::ifstream side(dir_ / (hash_to_hex(hash) + ".meta.json"));
  if (side) {
    auto j = nlohmann::json::parse(side, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("metadata")) {
      token.metadata = metadata_from(j["metadata"]);
    }
  }
  return token;
}

Result<Bytes> BlobStore::read_range(const BlobHash& hash, std::uint64_t offset,
                                    std::size_t max) const {
  auto file = detail::File::open_read(path_of(hash));
  if (!file.ok()) return make_error("NOT_FOUND", "no blob " + hash_to_hex(hash));
  return file->read_at(offset, max);
}

Result<Bytes> BlobStore::read_all(const BlobHash& hash) const {
  auto token = info(hash);
  if (!token.ok()) return token.error();
  return read_range(hash, 0, static_cast<std::size_t>(token->size));
}

Status BlobStore::verify(const BlobHash& hash) const {
  auto file = detail::File::open_read(path_of(hash));
  if (!file.ok()) return make_error("NOT_FOUND", "no blob " + hash_to_hex(hash));
  auto digest = detail::hash_prefix(*file, UINT64_MAX, 256 * 1024);
  if (!digest.ok()) return digest.error();
  if (*digest != hash) {
    return make_error("BLOB_CORRUPTED", "content of " + hash_to_hex(hash) + " no longer matches");
  }
  return {};
}

Result<bool> BlobStore::remove(const BlobHash& hash) {
  std::error_code ec;
  bool existed = fs::remove(path_of(hash), ec);
  if (ec) return make_error("BLOB_IO", "remove: " + ec.message());
  fs::remove(dir_ / (hash_to_hex(hash) + ".meta.json"), ec);
  return existed;
}

std::vector<BlobToken> BlobStore::list() const {
  std::vector<BlobToken> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (!entry.is_regular_file()) continue;
    auto hash = hash_from_hex(entry.path().filename().string());
    if (!hash.ok()) continue;
    auto token = info(*hash);
    if (token.ok()) out.push_back(std::move(*token));
  }
  std::sort(out.begin(), out.end(),
            [](const BlobToken& a, const BlobToken& b) { return a.hash < b.hash; });
  return out;
}

std::uint64_t BlobStore::total_bytes() const {
  std::uint64_t total = 0;
  for (const BlobToken& t : list()) total += t.size;
  return total;
}

}  // namespace peat::blob
