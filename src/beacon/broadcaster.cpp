#include "peat/beacon/broadcaster.hpp"

namespace peat::beacon {

BeaconSink datagram_sink(transport::Transport& transport) {
  return [&transport](const GeographicBeacon& beacon) {
    const std::string json = to_json(beacon);
    for (const auto& peer : transport.connected_peers()) {
      (void)transport.send_datagram(peer, as_bytes(json));
    }
  };
}

BeaconBroadcaster::BeaconBroadcaster(EventLoop& loop, GeographicBeacon beacon, Duration interval,
                                     BeaconSink sink)
    : loop_(loop), beacon_(std::move(beacon)), interval_(interval), sink_(std::move(sink)) {}

BeaconBroadcaster::~BeaconBroadcaster() {
  stop();
}

void BeaconBroadcaster::start() {
  if (running_) return;
  running_ = true;
  timer_ = loop_.call_after(Duration::zero(), [this] { tick(); });
}

void BeaconBroadcaster::stop() {
  if (!running_) return;
  running_ = false;
  loop_.cancel(timer_);
}

void BeaconBroadcaster::update_position(GeoPosition position) {
  beacon_.set_position(position);
}

void BeaconBroadcaster::tick() {
  if (!running_) return;
  beacon_.timestamp = loop_.unix_millis() / 1000;
  ++broadcasts_;
  if (sink_) sink_(beacon_);
  if (running_) timer_ = loop_.call_after(interval_, [this] { tick(); });
}

}  // namespace peat::beacon
