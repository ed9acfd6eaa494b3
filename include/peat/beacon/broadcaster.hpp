// BeaconBroadcaster: re-announces this node's beacon periodically on an EventLoop.
// The first tick is immediate; every tick refreshes the timestamp from the loop's wall clock
// and hands the beacon to a sink (e.g. datagrams to every connected peer).
#pragma once

#include <cstdint>
#include <functional>

#include "peat/beacon/types.hpp"
#include "peat/common/event_loop.hpp"
#include "peat/transport/transport.hpp"

namespace peat::beacon {

using BeaconSink = std::function<void(const GeographicBeacon&)>;

// A sink that sends the beacon's JSON as a datagram to every connected peer (send errors are
// ignored: beacons are best effort and repeat every interval).
BeaconSink datagram_sink(transport::Transport& transport);

class BeaconBroadcaster {
 public:
  BeaconBroadcaster(EventLoop& loop, GeographicBeacon beacon, Duration interval, BeaconSink sink);
  ~BeaconBroadcaster();
  BeaconBroadcaster(const BeaconBroadcaster&) = delete;
  BeaconBroadcaster& operator=(const BeaconBroadcaster&) = delete;

  void start();  // idempotent
  void stop();   // cancels the pending tick
  bool running() const { return running_; }

  void update_position(GeoPosition position);
  void set_level(HierarchyLevel level) { beacon_.hierarchy_level = level; }
  void set_operational(bool operational) { beacon_.operational = operational; }
  const GeographicBeacon& beacon() const { return beacon_; }
  std::uint64_t broadcasts() const { return broadcasts_; }

 private:
  void tick();

  EventLoop& loop_;
  GeographicBeacon beacon_;
  Duration interval_;
  BeaconSink sink_;
  bool running_ = false;
  TimerId timer_ = 0;
  std::uint64_t broadcasts_ = 0;
};

}  // namespace peat::beacon
