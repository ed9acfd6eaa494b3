// TopologyManager: turns TopologyBuilder decisions into transport connections. Connects to the
// selected parent and to lateral peers (up to a limit), retries failed connections with
// exponential backoff, disconnects lost peers, and buffers upward telemetry until the parent is
// connected (then flushes it as DataPacket JSON on the control channel).
//
// Deliberate fixes of reference quirks: a full lateral table skips the event instead of ending
// event handling; telemetry sent while the parent is connected goes out at once; metrics are fed.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "peat/common/event_loop.hpp"
#include "peat/routing/packet.hpp"
#include "peat/topology/builder.hpp"
#include "peat/topology/metrics.hpp"
#include "peat/transport/transport.hpp"

namespace peat::topology {

using AddressResolver = std::function<std::vector<transport::PeerAddress>(const std::string&)>;

class TopologyManager {
 public:
  // `metrics` may be null. The manager installs the transport's event callbacks.
  TopologyManager(EventLoop& loop, transport::Transport& transport, TopologyBuilder& builder,
                  AddressResolver resolve, MetricsCollector* metrics = nullptr);
  ~TopologyManager();
  TopologyManager(const TopologyManager&) = delete;
  TopologyManager& operator=(const TopologyManager&) = delete;

  // Starts the transport and the builder's periodic evaluation over `nearby` beacons.
  Status start(std::function<std::vector<GeographicBeacon>()> nearby);
  // Stops the builder, disconnects the parent and lateral peers and stops the transport.
  void stop();

  // Applies one builder event (start() wires this up; public for direct driving).
  void handle_event(const TopologyEvent& event);

  // Buffers (FIFO, oldest dropped when full) and flushes at once if the parent is connected.
  // Errors: "BUFFERING_DISABLED" when max_telemetry_buffer_size is 0.
  Status send_telemetry(routing::DataPacket packet);

  std::optional<std::string> selected_peer_id() const { return parent_; }
  bool is_connected_to_peer() const;
  std::vector<std::string> lateral_peer_ids() const;
  std::size_t lateral_peer_count() const { return laterals_.size(); }
  std::size_t buffer_size() const { return buffer_.size(); }
  // Failed connection retries made for `peer` (resets on success or give-up).
  std::uint32_t retry_count(const std::string& peer) const;
  TopologyBuilder& builder() { return builder_; }

  // Messages that arrive on the transport (the manager owns its callbacks).
  void on_message(std::function<void(const transport::PeerId&, transport::Channel, Bytes)> f) {
    on_message_ = std::move(f);
  }

 private:
  enum class Kind { kParent, kLateral };
  struct Pending {
    Kind kind;
    std::uint32_t failed_retries = 0;
    TimerId timer = 0;
    bool retrying = false;
  };
  void dial(const std::string& peer, Kind kind);
  void on_connected(const std::string& peer);
  void on_failed(const std::string& peer);
  void cancel_pending(const std::string& peer);
  void flush();
  void record_event(const TopologyEvent& e);

  EventLoop& loop_;
  transport::Transport& transport_;
  TopologyBuilder& builder_;
  AddressResolver resolve_;
  MetricsCollector* metrics_;
  std::function<std::vector<GeographicBeacon>()> nearby_;
  std::function<void(const transport::PeerId&, transport::Channel, Bytes)> on_message_;

  std::optional<std::string> parent_;
  bool parent_connected_ = false;
  std::optional<Instant> parent_lost_at_;
  std::map<std::string, Instant> laterals_;  // connected lateral peers
  std::map<std::string, Pending> pending_;
  std::deque<routing::DataPacket> buffer_;
  bool running_ = false;
};

}  // namespace peat::topology
