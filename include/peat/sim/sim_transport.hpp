// SimTransport: transport::Transport over a SimNetwork endpoint, so code written against the
// Transport interface runs unchanged in the simulator.
//
// Reliable channels are a small ARQ of its own over the lossy simulated packets: a handshake with
// per-connection session ids, one sequence space per connection (so each channel is ordered too),
// a window of in-flight messages, cumulative acks, go-back-N retransmission on timeout with
// exponential RTO backoff, keepalive pings and an idle timeout. Datagrams are one packet each and
// as lossy as the link. A message is one packet (no fragmentation): bandwidth is modelled by size.
#pragma once

#include <deque>
#include <map>
#include <memory>

#include "peat/sim/sim_network.hpp"
#include "peat/transport/transport.hpp"

namespace peat::sim {

struct SimTransportConfig {
  std::uint16_t port = 7000;
  transport::Capabilities capabilities{.type = transport::TransportType::kSimulated,
                                       .reliable = true,
                                       .ordered = true,
                                       .max_message_size = 1 << 20,
                                       .bandwidth_bps = 0,
                                       .typical_latency_ms = 1,
                                       .power_cost = 0,
                                       .max_range_m = 0};
  std::size_t max_datagram_size = 1200;
  std::size_t window = 64;              // reliable messages in flight per connection
  std::size_t send_queue_limit = 4096;  // queued beyond the window; more → WOULD_BLOCK
  Duration rto_initial = std::chrono::milliseconds(200);
  Duration rto_min = std::chrono::milliseconds(20);
  Duration rto_max = std::chrono::seconds(2);
  Duration keepalive = std::chrono::milliseconds(500);
  Duration idle_timeout = std::chrono::seconds(3);  // nothing heard for this long → kTimeout
  Duration connect_timeout = std::chrono::seconds(3);
};

struct SimTransportStats {
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_delivered = 0;
  std::uint64_t retransmissions = 0;
  std::uint64_t datagrams_sent = 0;
  std::uint64_t datagrams_received = 0;
  std::uint64_t invalid_packets = 0;
};

class SimTransport final : public transport::Transport {
 public:
  // `node` must exist in `network`. Nothing is bound until start().
  SimTransport(SimNetwork& network, NodeName node, SimTransportConfig config = {});
  ~SimTransport() override;
  SimTransport(const SimTransport&) = delete;
  SimTransport& operator=(const SimTransport&) = delete;

  const transport::Capabilities& capabilities() const override { return config_.capabilities; }
  void set_events(transport::TransportEvents events) override { events_ = std::move(events); }
  // Errors: "NODE_DOWN", "ADDRESS_IN_USE", "UNKNOWN_NODE", "CRASHED" (this instance's node
  // crashed: make a new SimTransport after SimNetwork::restart).
  Status start() override;
  void stop() override;
  // Addresses may be empty: then (peer, config.port) is used.
  void connect(const transport::PeerId& peer, const std::vector<PeerAddress>& addresses) override;
  void disconnect(const transport::PeerId& peer) override;
  bool is_connected(const transport::PeerId& peer) const override;
  std::vector<transport::PeerId> connected_peers() const override;
  Status send(const transport::PeerId& peer, transport::Channel channel, ByteView message) override;
  Status send_datagram(const transport::PeerId& peer, ByteView datagram) override;
  std::optional<transport::ConnectionHealth> health(const transport::PeerId& peer) const override;

  PeerAddress address() const { return {node_, config_.port}; }
  const SimTransportStats& stats() const { return stats_; }
  bool crashed() const { return crashed_; }

 private:
  struct Outgoing {
    std::uint64_t seq;
    transport::Channel channel;
    Bytes payload;
    Instant first_sent{};
    int transmissions = 0;
  };
  struct Conn {
    bool open = false;
    std::uint64_t local_session = 0;
    std::uint64_t remote_session = 0;
    std::uint64_t syn_order = 0;
    PeerAddress remote;
    Instant started{};
    Instant last_heard{};
    std::uint64_t next_seq = 1;
    std::deque<Outgoing> inflight;
    std::deque<Outgoing> queue;
    std::uint64_t recv_next = 1;
    std::map<std::uint64_t, std::pair<transport::Channel, Bytes>> out_of_order;
    TimerId rto_timer = 0;
    Duration rto{};
    Duration srtt{};
    Duration rttvar{};
    bool have_rtt = false;
    bool blocked = false;
    std::uint64_t transmissions = 0;
    std::uint64_t retransmissions = 0;
  };

  void on_packet(const Packet& packet);
  void on_crash();
  void send_raw(const Conn& conn, std::uint8_t type, ByteView body);
  void pump(const transport::PeerId& peer, Conn& conn);
  void arm_rto(const transport::PeerId& peer, Conn& conn);
  void on_rto(const transport::PeerId& peer, std::uint64_t session);
  void on_ack(const transport::PeerId& peer, Conn& conn, std::uint64_t cumulative);
  void on_data(const transport::PeerId& peer, std::uint64_t session, std::uint64_t seq,
               transport::Channel channel, Bytes payload);
  void open_connection(const transport::PeerId& peer, Conn& conn);
  void close(const transport::PeerId& peer, transport::DisconnectReason reason,
             const std::string& detail, bool notify_remote);
  void tick();
  Conn* find(const transport::PeerId& peer, std::uint64_t session);

  SimNetwork& net_;
  NodeName node_;
  SimTransportConfig config_;
  transport::TransportEvents events_;
  std::map<transport::PeerId, Conn> conns_;
  std::map<transport::PeerId, std::uint64_t> newest_syn_;  // highest SYN order seen per peer
  bool started_ = false;
  bool crashed_ = false;
  TimerId tick_timer_ = 0;
  SimTransportStats stats_;
  // Lets callbacks detect that this object was destroyed while they ran.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace peat::sim
