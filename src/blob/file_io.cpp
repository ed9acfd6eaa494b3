#include "blob/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace peat::blob::detail {

namespace fs = std::filesystem;

namespace {

Error io_error(const std::string& what, const fs::path& path) {
  return make_error("BLOB_IO", what + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace

Result<File> File::create(const fs::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("create", path);
  return File(fd, path);
}

Result<File> File::open_append(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open", path);
  if (::lseek(fd, 0, SEEK_END) < 0) {
    ::close(fd);
    return io_error("seek", path);
  }
  return File(fd, path);
}

Result<File> File::open_read(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("open", path);
  return File(fd, path);
}

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

Status File::append(ByteView data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write", path_);
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<Bytes> File::read_at(std::uint64_t offset, std::size_t max) const {
  Bytes out(max);
  std::size_t done = 0;
  while (done < max) {
    ssize_t n = ::pread(fd_, out.data() + done, max - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("read", path_);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

Status File::truncate(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return io_error("truncate", path_);
  if (::lseek(fd_, 0, SEEK_END) < 0) return io_error("seek", path_);
  return {};
}

Result<std::uint64_t> File::size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return io_error("stat", path_);
  return static_cast<std::uint64_t>(st.st_size);
}

Status File::sync() {
  if (::fsync(fd_) != 0) return io_error("fsync", path_);
  return {};
}

void File::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void File::close_and_remove() {
  close();
  std::error_code ec;
  fs::remove(path_, ec);
}

Result<Sha256Digest> hash_prefix(const File& file, std::uint64_t limit, std::size_t chunk) {
  Sha256 hasher;
  std::uint64_t offset = 0;
  while (offset < limit) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, limit - offset));
    auto data = file.read_at(offset, want);
    if (!data.ok()) return data.error();
    if (data->empty()) {
      if (limit == UINT64_MAX) break;
      return make_error("BLOB_IO", "file shorter than expected");
    }
    hasher.update(*data);
    offset += data->size();
  }
  return hasher.finish();
}

Status fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return io_error("fsync directory", dir);
  return {};
}

Status write_file_atomic(const fs::path& path, ByteView data) {
  fs::path tmp = path;
  tmp += ".tmp";
  auto file = File::create(tmp);
  if (!file.ok()) return file.error();
  PEAT_TRY_STATUS(file->append(data));
  PEAT_TRY_STATUS(file->sync());
  file->close();
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return make_error("BLOB_IO", "rename " + tmp.string() + ": " + ec.message());
  return fsync_dir(path.parent_path());
}

}  // namespace peat::blob::detail
