// Identity derivations the Rust peat-mesh-node binary makes from PEAT_FORMATION_SECRET
// (spec S10, §2.11). Byte-compatible so C++ and Rust nodes of one formation agree. Note the
// weakness: every member can derive every node's keys from the shared secret; prefer per-node
// keys from DeviceKeypair::generate() + certificates where Rust interop is not needed.
#pragma once

#include <cstdint>
#include <string_view>

#include "peat/common/bytes.hpp"
#include "peat/security/keypair.hpp"

namespace peat::security {

// The formation id the node binary uses.
inline constexpr std::string_view kNodeFormationId = "peat";

// Ed25519 key of the QUIC endpoint: from_seed(secret, "iroh:" + hostname).
DeviceKeypair node_endpoint_keypair(ByteView formation_secret, std::string_view hostname);
// Device identity: from_seed(secret, hostname).
DeviceKeypair node_device_keypair(ByteView formation_secret, std::string_view hostname);
// Enrollment authority: from_seed(secret, "peat-mesh:authority-keypair").
DeviceKeypair node_authority_keypair(ByteView formation_secret);
// OTA firmware signing key: from_seed(secret, "peat-ota-signing-v1").
DeviceKeypair ota_signing_keypair(ByteView formation_secret);
// Peat-Lite node id: h = h * 31 + byte over the hostname (wrapping u32, h0 = 0).
std::uint32_t lite_node_id(std::string_view hostname);

}  // namespace peat::security
