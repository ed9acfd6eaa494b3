// StaticDiscovery: a fixed peer list, from a TOML file or from config objects (EMCON, planned
// networks, tests). File format as the Rust crate's:
//   [[peers]]
//   node_id = "hq-alpha"
//   addresses = ["10.0.0.100:5000", "[fd00::1]:5000"]
//   relay_url = "https://relay.example.com:3479"   # optional
//   priority = 255                                  # optional, 0..255, default 128
//   [peers.metadata]                                # optional, string values
//   role = "company-hq"
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peat/discovery/peer_table.hpp"
#include "peat/discovery/strategy.hpp"

namespace peat::discovery {

struct StaticPeerConfig {
  std::string node_id;
  // As written; entries that are not IP:port are dropped when the peer is loaded.
  std::vector<std::string> addresses;
  std::optional<std::string> relay_url;
  std::uint8_t priority = 128;
  std::map<std::string, std::string> metadata;
};

struct StaticDiscoveryConfig {
  std::vector<StaticPeerConfig> peers;
};

// Parses TOML text. `source` names it in errors, which read "CONFIG_ERROR: Configuration error:
// Failed to parse TOML config: <source>:<line>: <what>".
Result<StaticDiscoveryConfig> parse_static_config(std::string_view toml_text,
                                                  std::string_view source = "<memory>");
// Reads and parses a file ("Failed to read config file: <path>: <reason>" when unreadable).
Result<StaticDiscoveryConfig> load_static_config(const std::filesystem::path& path);
// TOML text that parse_static_config reads back to the same config.
std::string to_toml(const StaticDiscoveryConfig& config);

class StaticDiscovery final : public DiscoveryStrategy {
 public:
  explicit StaticDiscovery(StaticDiscoveryConfig config, const Clock& clock = system_clock());
  static Result<std::unique_ptr<StaticDiscovery>> from_file(const std::filesystem::path& path,
                                                            const Clock& clock = system_clock());

  // Emits PeerFound for each peer with at least one valid address, in file order. Idempotent.
  Status start() override;
  Status stop() override;
  std::vector<PeerInfo> discovered_peers() const override;

  // Replaces the list. While running: new peers → PeerFound, changed → PeerUpdated,
  // removed → PeerLost. (The Rust crate has no reload.)
  void reload(StaticDiscoveryConfig config);
  // Re-reads the file given to from_file; on error the current list is kept.
  Status reload_file();

 private:
  void apply(const StaticDiscoveryConfig& config);

  StaticDiscoveryConfig config_;
  const Clock& clock_;
  std::optional<std::filesystem::path> path_;
  PeerTable table_;
  bool running_ = false;
};

// The PeerInfo a static entry yields (invalid addresses dropped); nothing if none is valid.
std::optional<PeerInfo> to_peer_info(const StaticPeerConfig& peer, Instant now);

}  // namespace peat::discovery
