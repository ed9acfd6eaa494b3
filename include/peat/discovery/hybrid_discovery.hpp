// HybridDiscovery: several named strategies at once, merged into one de-duplicated peer set.
//
// Merge rules (Rust HybridDiscovery): a child's PeerFound inserts or replaces the merged entry and
// is forwarded as PeerFound if the node was new, else PeerUpdated; PeerUpdated for a known node
// replaces and is forwarded, for an unknown node dropped; last writer wins for addresses and
// metadata. Deliberate fix of the Rust quirk "loss from any source removes the peer": here a
// PeerLost from one child is forwarded only when no other child still sees the node; otherwise the
// merged entry falls back to a remaining child's view and PeerUpdated is forwarded.
//
// Threading: children may push events from any thread; merging happens under one mutex.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "peat/discovery/strategy.hpp"

namespace peat::discovery {

class HybridDiscovery final : public DiscoveryStrategy {
 public:
  HybridDiscovery() = default;
  ~HybridDiscovery() override;

  // Add before start(); a name already present is replaced.
  void add_strategy(const std::string& name, std::shared_ptr<DiscoveryStrategy> strategy);
  bool remove_strategy(const std::string& name);
  bool has_strategy(const std::string& name) const;
  std::size_t strategy_count() const;

  // Starts every child and takes its event stream. Errors: CONFIG_ERROR "Failed to start strategy
  // '<name>': ..." / "Failed to get event stream for strategy '<name>': ..."; children started
  // before the failing one keep running. Idempotent.
  Status start() override;
  // Stops every child (errors ignored).
  Status stop() override;
  // Calls every child's advertise; failures are ignored.
  Status advertise(const std::string& node_id, std::uint16_t port) override;
  std::vector<PeerInfo> discovered_peers() const override;

 private:
  struct Child {
    std::shared_ptr<DiscoveryStrategy> strategy;
    std::shared_ptr<EventStream> stream;
    std::map<std::string, PeerInfo> seen;  // this child's own view
  };
  void pump(const std::string& name);
  void merge(Child& child, DiscoveryEvent event);

  mutable std::mutex mu_;
  std::map<std::string, Child> children_;
  std::map<std::string, PeerInfo> merged_;
  bool running_ = false;
};

}  // namespace peat::discovery
