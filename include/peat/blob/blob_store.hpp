// Content-addressed blob store: each blob is a file named by the lowercase hex SHA-256 of its
// content, with a JSON sidecar of metadata. Content survives restart. Imports stream in O(chunk)
// memory and land atomically (temporary file, fsync, rename), so a crash never leaves a
// half-written blob under its final name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/common/sha256.hpp"

namespace peat::blob {

using BlobHash = Sha256Digest;

std::string hash_to_hex(const BlobHash& hash);
// "INVALID_HASH" unless 64 hex characters.
Result<BlobHash> hash_from_hex(std::string_view hex);

struct BlobMetadata {
  std::optional<std::string> name;
  std::optional<std::string> content_type;
  std::map<std::string, std::string> custom;
  bool operator==(const BlobMetadata&) const = default;
};

// What a peer needs to fetch and verify a blob.
struct BlobToken {
  BlobHash hash{};
  std::uint64_t size = 0;
  BlobMetadata metadata;
  bool operator==(const BlobToken&) const = default;
};

// Pulls the next bytes of a stream into `out` (at most out.size()); returns the count, 0 at end.
using ReadFn = std::function<Result<std::size_t>(std::span<std::uint8_t> out)>;

class BlobStore {
 public:
  // Opens (creating) the store in `dir`; removes temporary import files left by a crash.
  static Result<BlobStore> open(const std::filesystem::path& dir);

  Result<BlobToken> put_bytes(ByteView data, const BlobMetadata& metadata = {});
  // Streams from `read` in chunks of `chunk_size` bytes.
  Result<BlobToken> put_stream(const ReadFn& read, const BlobMetadata& metadata = {},
                               std::size_t chunk_size = 256 * 1024);
  Result<BlobToken> put_file(const std::filesystem::path& path, const BlobMetadata& metadata = {});

  bool exists(const BlobHash& hash) const;
  Result<BlobToken> info(const BlobHash& hash) const;
  std::filesystem::path path_of(const BlobHash& hash) const;
  // Up to `max` bytes from `offset` ("NOT_FOUND" if the blob is absent).
  Result<Bytes> read_range(const BlobHash& hash, std::uint64_t offset, std::size_t max) const;
  Result<Bytes> read_all(const BlobHash& hash) const;
  // Re-hashes the file; "BLOB_CORRUPTED" if its content no longer matches its name.
  Status verify(const BlobHash& hash) const;
  Result<bool> remove(const BlobHash& hash);
  std::vector<BlobToken> list() const;
  std::uint64_t total_bytes() const;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path partial_dir() const { return dir_ / "partial"; }

  // Moves a fully written and verified file into the store (used by the transfer receiver).
  Result<BlobToken> adopt(const std::filesystem::path& verified_file, const BlobHash& hash,
                          const BlobMetadata& metadata);

 private:
  explicit BlobStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  Status write_sidecar(const BlobToken& token) const;
  std::filesystem::path dir_;
};

}  // namespace peat::blob
