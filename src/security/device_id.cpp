#include "peat/security/device_id.hpp"

#include <ostream>

#include "peat/common/sha256.hpp"
#include "peat/security/errors.hpp"
#include "peat/security/keypair.hpp"

namespace peat::security {

DeviceId DeviceId::from_public_key(const PublicKey& key) {
  Sha256Digest digest = Sha256::digest(key.view());
  Raw raw;
  std::copy_n(digest.begin(), kSize, raw.begin());
  return DeviceId(raw);
}

Result<DeviceId> DeviceId::from_public_key_bytes(ByteView key) {
  auto pk = PublicKey::from_bytes(key);
  if (!pk) return pk.error();
  return from_public_key(*pk);
}

Result<DeviceId> DeviceId::from_hex(std::string_view text) {
  if (text.size() != kSize * 2) {
    return security_error(errc::kInvalidDeviceId,
                          "expected 32 hex characters, got " + std::to_string(text.size()));
  }
  auto raw = peat::from_hex(text);
  if (!raw) return security_error(errc::kInvalidDeviceId, raw.error().message);
  Raw r;
  std::copy(raw->begin(), raw->end(), r.begin());
  return DeviceId(r);
}

std::string DeviceId::to_hex() const {
  return peat::to_hex(raw_);
}

std::ostream& operator<<(std::ostream& os, const DeviceId& id) {
  return os << id.to_hex();
}

}  // namespace peat::security
