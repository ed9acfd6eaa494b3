// TransportManager: one logical link to each peer over several Transport instances (QUIC, UDP
// bypass, BLE, simulated...). All links to a peer stay connected and health-monitored at once
// (dual-active); messages go over the best usable one by PACE tier, then capability score.
//
// Delivery: the manager numbers each peer's messages and keeps them until the peer acknowledges
// them (at-least-once below), and the receiving manager drops duplicates and restores order
// (exactly once, in order, above), so a failover or failback loses and repeats nothing.
//
// Failover is immediate when the active link is disconnected, Suspect or Dead; failback to a
// better tier waits until that link has been Healthy for `failback_hold` (hysteresis), and any
// switch waits `min_dwell` after the previous one unless the active link has failed.
//
// Threading: like the transports below it, the manager lives on one EventLoop; call it there.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "peat/common/event_loop.hpp"
#include "peat/common/random.hpp"
#include "peat/transport/health_monitor.hpp"
#include "peat/transport/pace.hpp"
#include "peat/transport/reconnection.hpp"
#include "peat/transport/transport.hpp"

namespace peat::transport {

struct TransportManagerConfig {
  HealthConfig health = HealthConfig::aggressive();
  ReconnectionPolicy reconnect = ReconnectionPolicy::aggressive();
  Duration tick = std::chrono::milliseconds(100);         // pings, timeouts, retries
  Duration failback_hold = std::chrono::seconds(3);       // healthy this long before failback
  Duration min_dwell = std::chrono::seconds(1);           // between two non-forced switches
  Duration retransmit_timeout = std::chrono::seconds(2);  // no ack progress → resend unacked
  std::size_t ack_every = 16;         // ack after this many messages (else at the next tick)
  std::size_t max_unacked = 1 << 16;  // per peer; beyond → WOULD_BLOCK
  std::size_t max_reorder = 1 << 16;  // out-of-order messages buffered per peer
  // Redundant mode: the first copy of every message also goes over every other usable link, so
  // a silently failing active link loses nothing even before health checks notice. Costs the
  // bandwidth of every link; duplicates are dropped by the receiver.
  bool redundant = false;
};

struct TransportManagerEvents {
  // Each message exactly once, in send order per peer.
  std::function<void(const PeerId&, Channel, Bytes)> on_message;
  // The link carrying traffic to `peer` changed ("" = none usable).
  std::function<void(const PeerId&, const std::string& from, const std::string& to)>
      on_active_link_changed;
  // A link to `peer` connected (true) or was lost (false).
  std::function<void(const PeerId&, const std::string& link, bool up)> on_link_changed;
};

struct TransportManagerStats {
  std::uint64_t messages_sent = 0;       // accepted by send()
  std::uint64_t messages_delivered = 0;  // handed to on_message
  std::uint64_t frames_sent = 0;         // data frames incl. retransmissions
  std::uint64_t retransmissions = 0;
  std::uint64_t duplicates_dropped = 0;
  std::uint64_t failovers = 0;  // switches away from a failed link
  std::uint64_t failbacks = 0;  // switches to a better tier
  std::uint64_t reconnect_attempts = 0;
  std::uint64_t invalid_frames = 0;
  std::uint64_t redundant_copies = 0;  // extra first copies sent in redundant mode
};

class TransportManager {
 public:
  TransportManager(EventLoop& loop, Rng& rng, TransportManagerConfig config = {});
  ~TransportManager();
  TransportManager(const TransportManager&) = delete;
  TransportManager& operator=(const TransportManager&) = delete;

  // Registers a transport under an instance id; the manager takes over its events. The
  // transport must outlive the manager (or be removed first). Errors: "ALREADY_EXISTS".
  Status add_link(const std::string& id, Transport& transport);
  void remove_link(const std::string& id);
  void set_policy(PacePolicy policy) { policy_ = std::move(policy); }
  const PacePolicy& policy() const { return policy_; }
  void set_events(TransportManagerEvents events) { events_ = std::move(events); }

  // Starts the periodic tick. Transports are started by their owner.
  void start();
  void stop();

  // Connects to `peer` on every link it has addresses for (an empty vector: the transport's own
  // default). Lost links are retried with backoff. Peers that connect to us are accepted too.
  void add_peer(const PeerId& peer, std::map<std::string, std::vector<PeerAddress>> addresses);
  void remove_peer(const PeerId& peer);

  // Errors: "UNKNOWN_PEER", "MESSAGE_TOO_LARGE" (it must fit every link the peer may use, so
  // a failover can carry it), "WOULD_BLOCK" (max_unacked reached).
  // A message sent while no link is usable waits until one is.
  Status send(const PeerId& peer, Channel channel, ByteView message);

  std::optional<std::string> active_link(const PeerId& peer) const;
  PaceLevel current_level(const PeerId& peer) const;
  bool link_usable(const PeerId& peer, const std::string& link) const;
  std::optional<ConnectionHealth> link_health(const PeerId& peer, const std::string& link) const;
  std::size_t unacked(const PeerId& peer) const;
  const TransportManagerStats& stats() const { return stats_; }

 private:
  struct LinkPeer {
    bool connected = false;
    bool connecting = false;
    Instant healthy_since{};
    bool healthy_tracked = false;
  };
  struct Pending {
    Channel channel;
    Bytes payload;
    bool transmitted = false;
  };
  struct PeerState {
    std::map<std::string, std::vector<PeerAddress>> addresses;
    std::map<std::string, LinkPeer> links;
    std::string active;
    Instant last_switch{};
    bool ever_switched = false;
    // Sending side.
    std::uint64_t stream = 0;  // random id of our stream to this peer
    std::uint64_t next_seq = 1;
    std::uint64_t sent_upto = 0;  // highest seq transmitted on the active link
    std::map<std::uint64_t, Pending> unacked;
    Instant last_ack_progress{};
    // Receiving side.
    std::uint64_t recv_stream = 0;
    bool recv_started = false;
    std::vector<std::uint64_t> retired_streams;  // the peer's earlier streams (late frames)
    std::uint64_t recv_next = 1;
    std::map<std::uint64_t, Pending> reorder;
    std::size_t unacked_received = 0;
    std::string ack_link;
  };
  struct Link {
    Transport* transport;
  };

  void on_connected(const std::string& link, const PeerId& peer);
  void on_disconnected(const std::string& link, const PeerId& peer, const std::string& detail);
  void on_frame(const std::string& link, const PeerId& peer, ByteView frame);
  void on_data(const std::string& link, const PeerId& peer, PeerState& st, std::uint64_t seq,
               Channel channel, Bytes payload);
  void send_ack(const PeerId& peer, PeerState& st);
  bool send_frame(const std::string& link, const PeerId& peer, Channel channel, ByteView frame);
  void flush(const PeerId& peer, PeerState& st);
  void select(const PeerId& peer, PeerState& st);
  void tick();
  void try_connect(const std::string& link, const PeerId& peer);
  PeerState& peer_state(const PeerId& peer);
  std::vector<std::string> ranked_links(const PeerState& st) const;
  void switch_to(const PeerId& peer, PeerState& st, const std::string& to, bool forced);
  void link_lost(const std::string& link, const PeerId& peer, PeerState& st,
                 const std::string& detail);
  bool usable(const PeerId& peer, const PeerState& st, const std::string& link) const;
  std::optional<ConnectionState> state_of(const PeerId& peer, const std::string& link) const;
  static std::string key(const PeerId& peer, const std::string& link) { return peer + '\n' + link; }

  EventLoop& loop_;
  Rng& rng_;
  TransportManagerConfig config_;
  TransportManagerEvents events_;
  PacePolicy policy_;
  HealthMonitor health_;
  ReconnectionManager reconnect_;
  std::map<std::string, Link> links_;
  std::map<PeerId, PeerState> peers_;
  TimerId tick_timer_ = 0;
  bool running_ = false;
  TransportManagerStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace peat::transport
