#include "peat/transport/quic/config.hpp"

#include <sodium.h>

#include "peat/common/sha256.hpp"

namespace peat::transport::quic {

PeerId peer_id_from_public_key(const PublicKey& public_key) {
  const Sha256Digest digest = Sha256::digest(ByteView(public_key.data(), public_key.size()));
  return to_hex(ByteView(digest.data(), 16));
}

ResetKey reset_key_for(const Identity& identity) {
  static constexpr std::string_view kLabel = "peat/quic/stateless-reset-key/1";
  ResetKey key{};
  crypto_auth_hmacsha256(key.data(), reinterpret_cast<const unsigned char*>(kLabel.data()),
                         kLabel.size(), identity.seed.data());
  return key;
}

std::optional<Channel> channel_for_alpn(std::string_view alpn) {
  if (alpn == kAlpnSync) return Channel::kSync;
  if (alpn == kAlpnEnroll) return Channel::kEnrollment;
  if (alpn == kAlpnBlobs) return Channel::kBlobs;
  return std::nullopt;
}

std::string_view alpn_for_channel(Channel channel) {
  switch (channel) {
    case Channel::kEnrollment:
      return kAlpnEnroll;
    case Channel::kBlobs:
      return kAlpnBlobs;
    case Channel::kSync:
    case Channel::kControl:
      break;
  }
  return kAlpnSync;
}

bool channel_allowed(std::string_view alpn, Channel channel) {
  const auto primary = channel_for_alpn(alpn);
  if (!primary) return false;
  if (channel == Channel::kControl || channel == *primary) return true;
  return *primary == Channel::kSync && channel == Channel::kBlobs;
}

}  // namespace peat::transport::quic
