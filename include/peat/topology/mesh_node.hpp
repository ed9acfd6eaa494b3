// MeshNode: the I/O driver of one node. Runs MeshMembership (heartbeats as datagrams) and a
// MeshRouter (DataPackets as JSON on the control channel) on an EventLoop over any Transport,
// e.g. the simulated network or QUIC.
//
// Static discovery: the node is given every other node's id and addresses. Of each pair, the
// node with the smaller id dials, and keeps re-dialling while the peer is unreachable.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "peat/common/event_loop.hpp"
#include "peat/routing/mesh_router.hpp"
#include "peat/topology/membership.hpp"
#include "peat/transport/transport.hpp"

namespace peat::topology {

struct MeshNodeConfig {
  // roster = keys of `peers`, filled in by MeshNode; incarnation 0 = random from the rng.
  MembershipConfig membership;
  std::map<std::string, std::vector<transport::PeerAddress>> peers;
  routing::DeduplicationConfig dedup;
  // Group leaders bundle upward telemetry into AggregatedTelemetry packets of this many.
  bool aggregate_telemetry = false;
  std::size_t aggregation_threshold = 3;
  Duration redial_interval = std::chrono::seconds(2);
};

struct MeshNodeStats {
  std::uint64_t heartbeats_sent = 0;
  std::uint64_t heartbeats_received = 0;
  std::uint64_t heartbeats_rejected = 0;
  std::uint64_t packets_consumed = 0;
  std::uint64_t packets_forwarded = 0;
  std::uint64_t packets_dropped = 0;
  std::uint64_t packets_invalid = 0;
  std::uint64_t send_failures = 0;
};

class MeshNode {
 public:
  using EventHandler = std::function<void(const MembershipEvent&)>;
  using PacketHandler = std::function<void(const routing::DataPacket&)>;

  MeshNode(EventLoop& loop, transport::Transport& transport, MeshNodeConfig config,
           std::shared_ptr<Rng> rng);
  ~MeshNode();
  MeshNode(const MeshNode&) = delete;
  MeshNode& operator=(const MeshNode&) = delete;

  Status start();
  void stop();

  void on_event(EventHandler handler) { on_event_ = std::move(handler); }
  // Packets this node consumes (after de-duplication).
  void on_packet(PacketHandler handler) { on_packet_ = std::move(handler); }

  // Originates a packet: sent to the router's next hops for it. Errors: "NO_ROUTE".
  Status send(routing::DataPacket packet);
  Status send_telemetry(Bytes payload);
  Status send_command(const std::string& destination, Bytes payload);

  const MeshMembership& membership() const { return membership_; }
  const MeshNodeStats& stats() const { return stats_; }
  const std::string& id() const { return membership_.config().node_id; }
  Rng& rng() { return *rng_; }

 private:
  void tick();
  void on_message(const transport::PeerId& from, Bytes message);
  void forward(routing::DataPacket packet, const std::vector<std::string>& hops);

  EventLoop& loop_;
  transport::Transport& transport_;
  MeshNodeConfig config_;
  std::shared_ptr<Rng> rng_;
  MeshMembership membership_;
  routing::MeshRouter router_;
  std::map<std::string, Instant> last_dial_;
  TimerId timer_ = 0;
  bool running_ = false;
  EventHandler on_event_;
  PacketHandler on_packet_;
  MeshNodeStats stats_;
};

}  // namespace peat::topology
