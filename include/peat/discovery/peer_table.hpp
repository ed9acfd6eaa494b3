// PeerTable: the set of known peers with change detection and TTL expiry (sans-I/O: the caller
// passes `now`). Strategies use it to turn observations into Found/Updated/Lost events.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "peat/common/clock.hpp"
#include "peat/discovery/peer_info.hpp"

namespace peat::discovery {

class PeerTable {
 public:
  // ttl == Duration::zero(): never expires.
  explicit PeerTable(Duration ttl = Duration::zero()) : ttl_(ttl) {}

  // Records an observation at `now`. Returns PeerFound for a new node, PeerUpdated when its
  // addresses, relay_url or metadata changed, nothing when only last_seen moved.
  std::optional<DiscoveryEvent> observe(PeerInfo peer, Instant now);
  // Removes a node; PeerLost if it was known.
  std::optional<DiscoveryEvent> remove(const std::string& node_id);
  // PeerLost for every peer not seen for longer than the TTL.
  std::vector<DiscoveryEvent> expire(Instant now);
  // When the next peer would expire (nothing if none or no TTL).
  std::optional<Instant> next_expiry() const;

  bool contains(const std::string& node_id) const { return peers_.count(node_id) != 0; }
  const PeerInfo* find(const std::string& node_id) const;
  std::vector<PeerInfo> peers() const;
  std::size_t size() const { return peers_.size(); }
  void clear() { peers_.clear(); }

 private:
  Duration ttl_;
  std::map<std::string, PeerInfo> peers_;
};

}  // namespace peat::discovery
