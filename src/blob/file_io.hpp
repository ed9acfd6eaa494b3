// Small POSIX file helpers for the blob store: positional reads, appends, fsync, atomic writes.
#pragma once

#include <filesystem>

#include "peat/common/bytes.hpp"
#include "peat/common/result.hpp"
#include "peat/common/sha256.hpp"

namespace peat::blob::detail {

class File {
 public:
  static Result<File> create(const std::filesystem::path& path);       // truncates
  static Result<File> open_append(const std::filesystem::path& path);  // creates if missing
  static Result<File> open_read(const std::filesystem::path& path);
  File(File&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  File& operator=(File&& o) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() { close(); }

  Status append(ByteView data);
  Result<Bytes> read_at(std::uint64_t offset, std::size_t max) const;
  Status truncate(std::uint64_t size);
  Result<std::uint64_t> size() const;
  Status sync();
  void close();
  void close_and_remove();

 private:
  File(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::filesystem::path path_;
};

// SHA-256 of the first `limit` bytes (or the whole file), read `chunk` bytes at a time.
Result<Sha256Digest> hash_prefix(const File& file, std::uint64_t limit, std::size_t chunk);
// Writes to a temporary sibling, fsyncs, renames over `path`, fsyncs the directory.
Status write_file_atomic(const std::filesystem::path& path, ByteView data);
Status fsync_dir(const std::filesystem::path& dir);

}  // namespace peat::blob::detail
