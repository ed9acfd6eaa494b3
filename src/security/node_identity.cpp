#include "peat/security/node_identity.hpp"

#include <string>

namespace peat::security {

DeviceKeypair node_endpoint_keypair(ByteView formation_secret, std::string_view hostname) {
  return DeviceKeypair::from_seed(formation_secret, "iroh:" + std::string(hostname));
}

DeviceKeypair node_device_keypair(ByteView formation_secret, std::string_view hostname) {
  return DeviceKeypair::from_seed(formation_secret, hostname);
}

DeviceKeypair node_authority_keypair(ByteView formation_secret) {
  return DeviceKeypair::from_seed(formation_secret, "peat-mesh:authority-keypair");
}

DeviceKeypair ota_signing_keypair(ByteView formation_secret) {
  return DeviceKeypair::from_seed(formation_secret, "peat-ota-signing-v1");
}

std::uint32_t lite_node_id(std::string_view hostname) {
  std::uint32_t h = 0;
  for (char c : hostname) h = h * 31u + static_cast<std::uint8_t>(c);
  return h;
}

}  // namespace peat::security
