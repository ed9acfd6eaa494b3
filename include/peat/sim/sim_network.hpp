// SimNetwork: a seeded, packet-level model of one network medium (an Ethernet, a radio, a BLE
// mesh). Nodes are named by strings (use the PeerId); endpoints are (node, port) addresses.
// Each directed link between two nodes has delay, jitter, loss, duplication, reordering and a
// bandwidth cap with a drop-tail queue. Partitions, link cuts and node crashes drop packets.
// Several SimNetworks may share one SimLoop to model a node with several radios.
//
// Everything is driven by the SimLoop and one seeded RNG: the same seed and the same calls give
// the same run (SimLoop::trace_hash() is equal).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "peat/common/bytes.hpp"
#include "peat/common/random.hpp"
#include "peat/common/result.hpp"
#include "peat/sim/sim_loop.hpp"
#include "peat/transport/transport.hpp"

namespace peat::sim {

using transport::PeerAddress;  // host = node name, port = endpoint port
using NodeName = std::string;

struct LinkConfig {
  Duration delay = std::chrono::milliseconds(1);  // one-way propagation delay
  Duration jitter = Duration::zero();             // extra delay, uniform in [0, jitter]
  double loss = 0.0;                              // probability a packet is dropped
  double duplicate = 0.0;                         // probability a packet arrives twice
  double reorder = 0.0;  // probability a packet is held back by reorder_delay
  Duration reorder_delay = std::chrono::milliseconds(5);
  std::uint64_t bandwidth_bps = 0;       // bits per second; 0 = unlimited (no serialization)
  std::size_t queue_bytes = 256 * 1024;  // drop-tail queue in front of a capped link
  bool up = true;                        // false: the link drops everything
};

struct Packet {
  PeerAddress from;
  PeerAddress to;
  Bytes data;
  std::uint64_t id = 0;  // unique per network, in send order (duplicates share the id)
};

// What became of a packet; observers see every fate.
enum class PacketFate : std::uint8_t {
  kSent,        // accepted by the network (scheduled for delivery)
  kDelivered,   // handed to the bound endpoint
  kLost,        // random loss
  kQueueFull,   // bandwidth queue overflow
  kLinkDown,    // link cut or partition (checked at send and at arrival)
  kNodeDown,    // sender or receiver crashed
  kNoEndpoint,  // nothing bound at the destination port
  kFiltered,    // the test's filter dropped it
  kDuplicated,  // an extra copy was scheduled
};
const char* to_string(PacketFate fate);

struct NetworkStats {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t bytes_delivered = 0;
  std::uint64_t lost = 0;
  std::uint64_t queue_full = 0;
  std::uint64_t link_down = 0;
  std::uint64_t node_down = 0;
  std::uint64_t no_endpoint = 0;
  std::uint64_t filtered = 0;
  std::uint64_t duplicated = 0;
};

class SimNetwork {
 public:
  using PacketHandler = std::function<void(const Packet&)>;
  // Called when the node hosting an endpoint crashes: the endpoint must drop all its state.
  using CrashHandler = std::function<void()>;
  enum class Verdict : std::uint8_t { kPass, kDrop };

  SimNetwork(SimLoop& loop, std::uint64_t seed, std::string name = "net");
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  SimLoop& loop() { return loop_; }
  const std::string& name() const { return name_; }
  // The network's seeded RNG; simulated endpoints draw their randomness here too.
  Rng& rng() { return rng_; }

  // ---- topology
  void add_node(const NodeName& node);  // idempotent
  bool has_node(const NodeName& node) const;
  std::vector<NodeName> nodes() const;
  // Link used between any two nodes without their own link config.
  void set_default_link(const LinkConfig& config);
  // Sets both directions (a->b and b->a).
  void set_link(const NodeName& a, const NodeName& b, const LinkConfig& config);
  void set_link_oneway(const NodeName& from, const NodeName& to, const LinkConfig& config);
  LinkConfig link(const NodeName& from, const NodeName& to) const;
  // Cuts or restores both directions (keeps the other parameters).
  void set_link_up(const NodeName& a, const NodeName& b, bool up);

  // Nodes in different groups cannot reach each other. Nodes in no group form one more group.
  // Packets in flight across the cut are dropped when they arrive. Replaces any earlier partition.
  void partition(const std::vector<std::vector<NodeName>>& groups);
  void heal();
  // False when partitioned apart, the link is down, or either node is down.
  bool can_reach(const NodeName& from, const NodeName& to) const;

  // A crashed node sends and receives nothing; its endpoints' CrashHandlers run and they are
  // unbound. restart() brings the node back (empty): create fresh endpoints for it.
  void crash(const NodeName& node);
  void restart(const NodeName& node);
  bool is_up(const NodeName& node) const;
  std::uint32_t incarnation(const NodeName& node) const;  // +1 per restart

  // ---- packet layer (the hook protocol code runs on)
  // Binds a handler to (node, port). Errors: "UNKNOWN_NODE", "NODE_DOWN", "ADDRESS_IN_USE".
  Status bind(const PeerAddress& address, PacketHandler on_packet, CrashHandler on_crash = {});
  void unbind(const PeerAddress& address);
  // A free port >= 49152 on `node`.
  std::uint16_t ephemeral_port(const NodeName& node) const;
  // Best effort: the fate is decided by the link model; nothing is reported to the sender.
  void send(const PeerAddress& from, const PeerAddress& to, Bytes data);
  // Link-local broadcast: one copy to `port` on every other node (in name order), each through
  // its own link model, as a LAN broadcast or a radio transmission heard by all in range.
  // Returns the number of copies handed to the links.
  std::size_t broadcast(const PeerAddress& from, std::uint16_t port, const Bytes& data);

  // Test hooks: the filter may drop chosen packets (e.g. "the 500th data packet"); the observer
  // sees every packet's fate (tracing, counting, pcap-like dumps).
  void set_filter(std::function<Verdict(const Packet&)> filter) { filter_ = std::move(filter); }
  void set_observer(std::function<void(const Packet&, PacketFate)> observer) {
    observer_ = std::move(observer);
  }

  const NetworkStats& stats() const { return stats_; }

 private:
  struct NodeState {
    bool up = true;
    std::uint32_t incarnation = 0;
    int group = -1;  // partition group; -1 = not listed
  };
  struct LinkState {
    std::optional<LinkConfig> config;
    Instant busy_until{};
  };
  struct Binding {
    PacketHandler on_packet;
    CrashHandler on_crash;
  };
  const LinkConfig& config_of(const NodeName& from, const NodeName& to) const;
  bool partitioned(const NodeName& a, const NodeName& b) const;
  void fate(const Packet& packet, PacketFate fate);
  void schedule_delivery(Packet packet, Instant at);
  void deliver(const Packet& packet);

  SimLoop& loop_;
  SeededRng rng_;
  std::string name_;
  LinkConfig default_link_;
  std::map<NodeName, NodeState> nodes_;
  std::map<std::pair<NodeName, NodeName>, LinkState> links_;
  std::map<std::pair<NodeName, std::uint16_t>, Binding> bindings_;
  bool partitioned_ = false;
  std::uint64_t next_packet_id_ = 1;
  std::function<Verdict(const Packet&)> filter_;
  std::function<void(const Packet&, PacketFate)> observer_;
  NetworkStats stats_;
};

}  // namespace peat::sim
