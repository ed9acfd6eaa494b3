#include "peat/security/keypair.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ostream>

#include "peat/security/device_id.hpp"
#include "peat/security/errors.hpp"
#include "peat/security/hkdf.hpp"
#include "peat/security/os_rng.hpp"
#include "security/sodium_init.hpp"

namespace peat::security {

namespace {
bool is_valid_ed25519_point(ByteView bytes) {
  return bytes.size() == crypto_sign_PUBLICKEYBYTES &&
         crypto_core_ed25519_is_valid_point(bytes.data()) == 1;
}

Error io_error(const std::filesystem::path& path, std::string_view what, int err) {
  return security_error(errc::kIoError,
                        std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

// Closes the descriptor on every path out of save_to_file.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

Result<PublicKey> PublicKey::from_bytes(ByteView bytes) {
  if (bytes.size() != kPublicKeySize) {
    return security_error(errc::kInvalidPublicKey,
                          "expected 32 bytes, got " + std::to_string(bytes.size()));
  }
  if (!is_valid_ed25519_point(bytes)) {
    return security_error(errc::kInvalidPublicKey, "not a valid Ed25519 point");
  }
  PublicKeyBytes b;
  std::copy(bytes.begin(), bytes.end(), b.begin());
  return PublicKey(b);
}

Result<PublicKey> PublicKey::from_hex(std::string_view hex) {
  auto raw = peat::from_hex(hex);
  if (!raw) return security_error(errc::kInvalidPublicKey, raw.error().message);
  return from_bytes(*raw);
}

std::string PublicKey::to_hex() const {
  return peat::to_hex(bytes_);
}

DeviceId PublicKey::device_id() const {
  return DeviceId::from_public_key(*this);
}

Status PublicKey::verify(ByteView message, const SignatureBytes& signature) const {
  detail::ensure_sodium();
  if (crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                  bytes_.data()) != 0) {
    return security_error(errc::kInvalidSignature, "signature verification failed");
  }
  return {};
}

Result<SignatureBytes> signature_from_bytes(ByteView bytes) {
  if (bytes.size() != kSignatureSize) {
    return security_error(errc::kInvalidSignature,
                          "expected 64 bytes, got " + std::to_string(bytes.size()));
  }
  SignatureBytes s;
  std::copy(bytes.begin(), bytes.end(), s.begin());
  return s;
}

Status verify_signature(ByteView public_key, ByteView message, ByteView signature) {
  if (public_key.size() != kPublicKeySize) {
    return security_error(errc::kInvalidPublicKey,
                          "expected 32 bytes, got " + std::to_string(public_key.size()));
  }
  if (signature.size() != kSignatureSize) {
    return security_error(errc::kInvalidSignature,
                          "expected 64 bytes, got " + std::to_string(signature.size()));
  }
  detail::ensure_sodium();
  // libsodium's verify already refuses non-canonical and small-order keys, so the costly
  // subgroup check only runs on failure, to report which of the two was wrong.
  if (crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                  public_key.data()) == 0) {
    return {};
  }
  if (!is_valid_ed25519_point(public_key)) {
    return security_error(errc::kInvalidPublicKey, "not a valid Ed25519 point");
  }
  return security_error(errc::kInvalidSignature, "signature verification failed");
}

DeviceKeypair::DeviceKeypair(const SecretKey& seed) : seed_(seed), public_key_(PublicKeyBytes{}) {
  detail::ensure_sodium();
  PublicKeyBytes pk;
  crypto_sign_seed_keypair(pk.data(), signing_key_.data(), seed_.data());
  public_key_ = PublicKey(pk);
}

DeviceKeypair DeviceKeypair::generate() {
  OsRng rng;
  return generate(rng);
}

DeviceKeypair DeviceKeypair::generate(Rng& rng) {
  SecretKey seed;
  rng.fill(seed.span());
  return DeviceKeypair(seed);
}

Result<DeviceKeypair> DeviceKeypair::from_secret_bytes(ByteView secret) {
  auto seed = SecretKey::from(secret);
  if (!seed) {
    return security_error(errc::kKeypairError,
                          "expected 32 bytes, got " + std::to_string(secret.size()));
  }
  return DeviceKeypair(*seed);
}

DeviceKeypair DeviceKeypair::from_seed(ByteView seed, std::string_view context) {
  return DeviceKeypair(hkdf32({}, seed, as_bytes(context)));
}

Result<DeviceKeypair> DeviceKeypair::load_from_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return io_error(path, "cannot open key file", errno);
  FdGuard guard{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error(path, "cannot stat key file", errno);
  if (!S_ISREG(st.st_mode)) {
    return security_error(errc::kKeypairError, "key file " + path.string() + " is not a file");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return security_error(errc::kKeypairError,
                          "key file " + path.string() + " has mode " + mode +
                              " (group/others can access it); run: chmod 600 " + path.string());
  }
  if (st.st_size != 32) {
    return security_error(
        errc::kKeypairError,
        "expected 32 bytes, got " + std::to_string(st.st_size) + " in key file " + path.string());
  }
  SecretKey seed;
  std::size_t got = 0;
  while (got < seed.size()) {
    ssize_t n = ::read(fd, seed.data() + got, seed.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(path, "cannot read key file", errno);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got != seed.size()) {
    return security_error(errc::kKeypairError,
                          "expected 32 bytes, got " + std::to_string(got) + " in key file");
  }
  return DeviceKeypair(seed);
}

Status DeviceKeypair::save_to_file(const std::filesystem::path& path) const {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) return io_error(tmpl, "cannot create temporary key file", errno);
  FdGuard guard{fd};
  auto fail = [&](std::string_view what) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return io_error(path, what, err);
  };
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) return fail("cannot set mode of key file");
  std::size_t done = 0;
  while (done < seed_.size()) {
    ssize_t n = ::write(fd, seed_.data() + done, seed_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write key file");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot sync key file");
  if (::rename(tmpl.c_str(), path.c_str()) != 0) return fail("cannot rename key file into");
  // Make the rename itself durable.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

SignatureBytes DeviceKeypair::sign(ByteView message) const {
  SignatureBytes sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), signing_key_.data());
  return sig;
}

DeviceId DeviceKeypair::device_id() const {
  return public_key_.device_id();
}

std::string DeviceKeypair::to_string() const {
  return "DeviceKeypair { device_id: " + device_id().to_hex() + ", secret: [REDACTED] }";
}

std::ostream& operator<<(std::ostream& os, const DeviceKeypair& kp) {
  return os << kp.to_string();
}

}  // namespace peat::security
