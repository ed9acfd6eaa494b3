// EventStream: the queue a strategy fills with DiscoveryEvents and one consumer drains.
// Thread-safe: strategies with a worker thread (Kubernetes) push from it; consumers pop anywhere.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "peat/discovery/peer_info.hpp"

namespace peat::discovery {

class EventStream {
 public:
  void push(DiscoveryEvent event);
  std::optional<DiscoveryEvent> try_next();
  std::vector<DiscoveryEvent> drain();
  std::size_t size() const;
  // Called (on the pushing thread, with no lock held) after every push; replaces any earlier one.
  void set_notify(std::function<void()> notify);

 private:
  mutable std::mutex mu_;
  std::deque<DiscoveryEvent> queue_;
  std::function<void()> notify_;
};

}  // namespace peat::discovery
