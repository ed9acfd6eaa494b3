// DiscoveryStrategy: the interface every discovery mechanism implements (Rust DiscoveryStrategy).
// Take the event stream before start() so that early events are not missed; it can be taken once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "peat/common/result.hpp"
#include "peat/discovery/event_stream.hpp"
#include "peat/discovery/peer_info.hpp"

namespace peat::discovery {

class DiscoveryStrategy {
 public:
  DiscoveryStrategy() : stream_(std::make_shared<EventStream>()) {}
  virtual ~DiscoveryStrategy() = default;
  DiscoveryStrategy(const DiscoveryStrategy&) = delete;
  DiscoveryStrategy& operator=(const DiscoveryStrategy&) = delete;

  virtual Status start() = 0;
  virtual Status stop() = 0;
  // Publishes this node where the mechanism supports it; default: nothing to do.
  virtual Status advertise(const std::string& node_id, std::uint16_t port) {
    (void)node_id;
    (void)port;
    return {};
  }
  virtual std::vector<PeerInfo> discovered_peers() const = 0;

  // The first call returns the stream; later calls fail with "EVENT_STREAM_CONSUMED".
  Result<std::shared_ptr<EventStream>> event_stream();

 protected:
  void emit(DiscoveryEvent event) { stream_->push(std::move(event)); }

 private:
  std::shared_ptr<EventStream> stream_;
  bool taken_ = false;
};

}  // namespace peat::discovery
