#include "peat/mesh/config.hpp"

#include <cctype>

#include "peat/discovery/peer_info.hpp"
#include "peat/mesh/peat_mesh.hpp"
#include "peat/security/formation_key.hpp"
#include "peat/security/node_identity.hpp"

namespace peat::mesh {

const char* to_string(DiscoveryMode mode) {
  switch (mode) {
    case DiscoveryMode::kNone:
      return "none";
    case DiscoveryMode::kStatic:
      return "static";
    case DiscoveryMode::kMdns:
      return "mdns";
    case DiscoveryMode::kKubernetes:
      return "kubernetes";
  }
  return "none";
}

Result<DiscoveryMode> parse_discovery_mode(std::string_view text) {
  if (text == "none") return DiscoveryMode::kNone;
  if (text == "static") return DiscoveryMode::kStatic;
  if (text == "mdns") return DiscoveryMode::kMdns;
  if (text == "kubernetes" || text == "k8s") return DiscoveryMode::kKubernetes;
  return invalid_config_error("Unknown PEAT_DISCOVERY mode '" + std::string(text) +
                              "' (expected kubernetes, k8s, mdns, static or none)");
}

bool is_valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  for (char c : id) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::optional<std::filesystem::path> MeshConfig::store_dir() const {
  if (data_dir) return data_dir;
  return storage_path;
}

Status MeshConfig::validate() const {
  if (node_id && !is_valid_node_id(*node_id)) {
    return invalid_config_error("node id '" + *node_id +
                                "' must be 1-63 characters of letters, digits, '-', '_' or '.'");
  }
  if (parent && !is_valid_node_id(*parent)) {
    return invalid_config_error("parent '" + *parent +
                                "' must be 1-63 characters of letters, digits, '-', '_' or '.'");
  }
  if (parent && node_id && *parent == *node_id) {
    return invalid_config_error("parent '" + *parent + "' is this node itself");
  }
  if (formation_secret) {
    auto key = security::FormationKey::from_base64(std::string(security::kNodeFormationId),
                                                   *formation_secret);
    if (!key) return invalid_config_error("formation secret: " + key.error().message);
  } else if (discovery_mode != DiscoveryMode::kNone) {
    return invalid_config_error(std::string("discovery '") + to_string(discovery_mode) +
                                "' needs a formation secret");
  }
  if (discovery_mode == DiscoveryMode::kStatic && !static_peers_file) {
    return invalid_config_error("static discovery needs a static peers file (PEAT_STATIC_PEERS)");
  }
  if (iroh.secret_key && iroh.secret_key->size() != 32) {
    return invalid_config_error("iroh secret key must be 32 bytes, got " +
                                std::to_string(iroh.secret_key->size()));
  }
  if (iroh.bind_addr) {
    auto addr = discovery::parse_socket_address(*iroh.bind_addr);
    if (!addr) return invalid_config_error("iroh bind address: " + addr.error().message);
  }
  if (quic_bind_host.empty() || !discovery::is_ip_literal(quic_bind_host)) {
    return invalid_config_error("QUIC bind host '" + quic_bind_host + "' is not an IP address");
  }
  if (broker_port && !discovery::is_ip_literal(broker_bind_host)) {
    return invalid_config_error("broker bind host '" + broker_bind_host + "' is not an IP address");
  }
  if (lite_port && !discovery::is_ip_literal(lite_bind_host)) {
    return invalid_config_error("Lite bind host '" + lite_bind_host + "' is not an IP address");
  }
  if (blob_profile != "datacenter" && blob_profile != "tactical" && blob_profile != "edge") {
    return invalid_config_error("blob profile '" + blob_profile +
                                "' (expected datacenter, tactical or edge)");
  }
  if (broker_token && broker_token->empty()) {
    return invalid_config_error("broker token must not be empty");
  }
  if (operation_timeout.count() <= 0) {
    return invalid_config_error("operation timeout must be positive");
  }
  if (drain_timeout.count() < 0) return invalid_config_error("drain timeout must not be negative");
  if (reconnect_interval.count() <= 0) {
    return invalid_config_error("reconnect interval must be positive");
  }
  if (storage_max_bytes != 0 && !store_dir()) {
    return invalid_config_error("a storage budget needs a data dir (PEAT_DATA_DIR)");
  }
  if (gc_interval.count() <= 0) return invalid_config_error("GC interval must be positive");
  if (storage_check_interval.count() <= 0) {
    return invalid_config_error("storage check interval must be positive");
  }
  return {};
}

}  // namespace peat::mesh
