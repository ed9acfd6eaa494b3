#include "peat/discovery/peer_table.hpp"

namespace peat::discovery {

std::optional<DiscoveryEvent> PeerTable::observe(PeerInfo peer, Instant now) {
  peer.last_seen = now;
  auto it = peers_.find(peer.node_id);
  if (it == peers_.end()) {
    peers_.emplace(peer.node_id, peer);
    return PeerFound{std::move(peer)};
  }
  bool changed = !it->second.same_content(peer);
  it->second = peer;
  if (!changed) return std::nullopt;
  return PeerUpdated{std::move(peer)};
}

std::optional<DiscoveryEvent> PeerTable::remove(const std::string& node_id) {
  if (peers_.erase(node_id) == 0) return std::nullopt;
  return PeerLost{node_id};
}

std::vector<DiscoveryEvent> PeerTable::expire(Instant now) {
  std::vector<DiscoveryEvent> out;
  if (ttl_ == Duration::zero()) return out;
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (now - it->second.last_seen > ttl_) {
      out.emplace_back(PeerLost{it->first});
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::optional<Instant> PeerTable::next_expiry() const {
  if (ttl_ == Duration::zero() || peers_.empty()) return std::nullopt;
  Instant earliest = Instant::max();
  for (const auto& [id, p] : peers_) earliest = std::min(earliest, p.last_seen + ttl_);
  return earliest;
}

const PeerInfo* PeerTable::find(const std::string& node_id) const {
  auto it = peers_.find(node_id);
  return it == peers_.end() ? nullptr : &it->second;
}

std::vector<PeerInfo> PeerTable::peers() const {
  std::vector<PeerInfo> out;
  out.reserve(peers_.size());
  for (const auto& [id, p] : peers_) out.push_back(p);
  return out;
}

}  // namespace peat::discovery
