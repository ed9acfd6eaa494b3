#include "peat/sim/sim_transport.hpp"

#include <algorithm>

namespace peat::sim {

using transport::Channel;
using transport::DisconnectReason;
using transport::PeerId;

namespace {

// Packet: type u8 | sender session u64 LE | receiver session u64 LE | body.
enum : std::uint8_t {
  kSyn = 1,  // body: attempt order u64 LE (virtual time in ns; later attempts are larger)
  kSynAck = 2,
  kData = 3,  // body: seq u64 LE | channel u8 | payload
  kAck = 4,   // body: cumulative seq u64 LE (every seq <= it was received)
  kDgram = 5,
  kPing = 6,
  kPong = 7,
  kFin = 8,
};
constexpr std::size_t kHeader = 17;

void put_u64(Bytes& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
Bytes u64_body(std::uint64_t v) {
  Bytes b;
  put_u64(b, v);
  return b;
}

}  // namespace

SimTransport::SimTransport(SimNetwork& network, NodeName node, SimTransportConfig config)
    : net_(network), node_(std::move(node)), config_(std::move(config)) {}

SimTransport::~SimTransport() {
  *alive_ = false;
  for (auto& [peer, conn] : conns_) net_.loop().cancel(conn.rto_timer);
  net_.loop().cancel(tick_timer_);
  if (started_) net_.unbind(address());
}

Status SimTransport::start() {
  if (crashed_) return make_error("CRASHED", node_ + " crashed; create a new transport");
  if (started_) return {};
  PEAT_TRY_STATUS(net_.bind(
      address(), [this](const Packet& p) { on_packet(p); }, [this] { on_crash(); }));
  started_ = true;
  auto alive = alive_;
  tick_timer_ = net_.loop().call_after(config_.keepalive, [this, alive] {
    if (*alive) tick();
  });
  return {};
}

void SimTransport::stop() {
  if (!started_) return;
  std::vector<PeerId> was_open;
  for (auto& [peer, conn] : conns_) {
    if (conn.open) {
      send_raw(conn, kFin, {});
      was_open.push_back(peer);
    }
    net_.loop().cancel(conn.rto_timer);
  }
  conns_.clear();
  net_.loop().cancel(tick_timer_);
  tick_timer_ = 0;
  net_.unbind(address());
  started_ = false;
  auto alive = alive_;
  for (const auto& peer : was_open) {
    if (events_.on_disconnected) events_.on_disconnected(peer, DisconnectReason::kLocalClosed, "");
    if (!*alive) return;
  }
}

void SimTransport::on_crash() {
  // The process died: no goodbyes, no events, every queued message is gone.
  crashed_ = true;
  started_ = false;
  for (auto& [peer, conn] : conns_) net_.loop().cancel(conn.rto_timer);
  conns_.clear();
  net_.loop().cancel(tick_timer_);
  tick_timer_ = 0;
}

SimTransport::Conn* SimTransport::find(const PeerId& peer, std::uint64_t session) {
  auto it = conns_.find(peer);
  if (it == conns_.end() || it->second.local_session != session) return nullptr;
  return &it->second;
}

void SimTransport::send_raw(const Conn& conn, std::uint8_t type, ByteView body) {
  Bytes packet;
  packet.reserve(kHeader + body.size());
  packet.push_back(type);
  put_u64(packet, conn.local_session);
  put_u64(packet, conn.remote_session);
  packet.insert(packet.end(), body.begin(), body.end());
  net_.send(address(), conn.remote, std::move(packet));
}

void SimTransport::connect(const PeerId& peer, const std::vector<PeerAddress>& addresses) {
  auto alive = alive_;
  if (!started_) {
    net_.loop().post([this, alive, peer] {
      if (*alive && events_.on_disconnected) {
        events_.on_disconnected(peer, DisconnectReason::kNetworkError, "transport not started");
      }
    });
    return;
  }
  if (conns_.contains(peer)) return;  // open or already connecting
  Conn& conn = conns_[peer];
  conn.local_session = net_.rng().next_u64() | 1;
  conn.remote = addresses.empty() ? PeerAddress{peer, config_.port} : addresses.front();
  conn.started = net_.loop().now();
  conn.rto = config_.rto_initial;
  conn.syn_order = static_cast<std::uint64_t>(conn.started.time_since_epoch().count());
  send_raw(conn, kSyn, u64_body(conn.syn_order));
  arm_rto(peer, conn);
}

void SimTransport::disconnect(const PeerId& peer) {
  close(peer, DisconnectReason::kLocalClosed, "", true);
}

bool SimTransport::is_connected(const PeerId& peer) const {
  auto it = conns_.find(peer);
  return it != conns_.end() && it->second.open;
}

std::vector<PeerId> SimTransport::connected_peers() const {
  std::vector<PeerId> out;
  for (const auto& [peer, conn] : conns_) {
    if (conn.open) out.push_back(peer);
  }
  return out;
}

Status SimTransport::send(const PeerId& peer, Channel channel, ByteView message) {
  auto it = conns_.find(peer);
  if (it == conns_.end() || !it->second.open) {
    return make_error("NOT_CONNECTED", "not connected to " + peer);
  }
  if (config_.capabilities.max_message_size > 0 &&
      message.size() > config_.capabilities.max_message_size) {
    return make_error("MESSAGE_TOO_LARGE", std::to_string(message.size()) + " bytes");
  }
  Conn& conn = it->second;
  if (conn.queue.size() >= config_.send_queue_limit) {
    conn.blocked = true;
    return make_error("WOULD_BLOCK", "send queue full");
  }
  conn.queue.push_back(Outgoing{conn.next_seq++, channel, Bytes(message.begin(), message.end())});
  ++stats_.messages_sent;
  pump(peer, conn);
  return {};
}

Status SimTransport::send_datagram(const PeerId& peer, ByteView datagram) {
  auto it = conns_.find(peer);
  if (it == conns_.end() || !it->second.open) {
    return make_error("NOT_CONNECTED", "not connected to " + peer);
  }
  if (datagram.size() > config_.max_datagram_size) {
    return make_error("MESSAGE_TOO_LARGE", std::to_string(datagram.size()) + " bytes");
  }
  ++stats_.datagrams_sent;
  send_raw(it->second, kDgram, datagram);
  return {};
}

std::optional<transport::ConnectionHealth> SimTransport::health(const PeerId& peer) const {
  auto it = conns_.find(peer);
  if (it == conns_.end() || !it->second.open) return std::nullopt;
  const Conn& conn = it->second;
  transport::ConnectionHealth h;
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  h.rtt_ms = static_cast<std::uint32_t>(duration_cast<milliseconds>(conn.srtt).count());
  h.rtt_variance_ms = static_cast<std::uint32_t>(duration_cast<milliseconds>(conn.rttvar).count());
  h.packet_loss_percent = conn.transmissions == 0
                              ? 0
                              : static_cast<std::uint8_t>(std::min<std::uint64_t>(
                                    100, conn.retransmissions * 100 / conn.transmissions));
  auto silent = net_.loop().now() - conn.last_heard;
  h.state = silent > 2 * config_.keepalive ? transport::ConnectionState::kSuspect
                                           : transport::ConnectionState::kHealthy;
  h.last_activity = conn.last_heard;
  return h;
}

void SimTransport::pump(const PeerId& peer, Conn& conn) {
  if (!conn.open) return;
  bool sent = false;
  while (conn.inflight.size() < config_.window && !conn.queue.empty()) {
    Outgoing out = std::move(conn.queue.front());
    conn.queue.pop_front();
    out.first_sent = net_.loop().now();
    out.transmissions = 1;
    Bytes body;
    body.reserve(9 + out.payload.size());
    put_u64(body, out.seq);
    body.push_back(static_cast<std::uint8_t>(out.channel));
    body.insert(body.end(), out.payload.begin(), out.payload.end());
    send_raw(conn, kData, body);
    ++conn.transmissions;
    conn.inflight.push_back(std::move(out));
    sent = true;
  }
  if (sent && conn.rto_timer == 0) arm_rto(peer, conn);
}

void SimTransport::arm_rto(const PeerId& peer, Conn& conn) {
  net_.loop().cancel(conn.rto_timer);
  auto alive = alive_;
  std::uint64_t session = conn.local_session;
  conn.rto_timer = net_.loop().call_after(conn.rto, [this, alive, peer, session] {
    if (*alive) on_rto(peer, session);
  });
}

void SimTransport::on_rto(const PeerId& peer, std::uint64_t session) {
  Conn* conn = find(peer, session);
  if (conn == nullptr) return;
  conn->rto_timer = 0;
  conn->rto = std::min(conn->rto * 2, config_.rto_max);
  if (!conn->open) {
    send_raw(*conn, kSyn, u64_body(conn->syn_order));
    arm_rto(peer, *conn);
    return;
  }
  if (conn->inflight.empty()) return;
  // Go-back-N: resend everything not yet acknowledged.
  for (auto& out : conn->inflight) {
    ++out.transmissions;
    ++conn->transmissions;
    ++conn->retransmissions;
    ++stats_.retransmissions;
    Bytes body;
    put_u64(body, out.seq);
    body.push_back(static_cast<std::uint8_t>(out.channel));
    body.insert(body.end(), out.payload.begin(), out.payload.end());
    send_raw(*conn, kData, body);
  }
  arm_rto(peer, *conn);
}

void SimTransport::on_ack(const PeerId& peer, Conn& conn, std::uint64_t cumulative) {
  bool progressed = false;
  Instant now = net_.loop().now();
  while (!conn.inflight.empty() && conn.inflight.front().seq <= cumulative) {
    const Outgoing& out = conn.inflight.front();
    if (out.transmissions == 1) {  // Karn: no samples from retransmitted messages
      Duration sample = now - out.first_sent;
      if (!conn.have_rtt) {
        conn.srtt = sample;
        conn.rttvar = sample / 2;
        conn.have_rtt = true;
      } else {
        Duration diff = conn.srtt > sample ? conn.srtt - sample : sample - conn.srtt;
        conn.rttvar = (conn.rttvar * 3 + diff) / 4;
        conn.srtt = (conn.srtt * 7 + sample) / 8;
      }
    }
    conn.inflight.pop_front();
    progressed = true;
  }
  if (!progressed) return;
  conn.rto = conn.have_rtt
                 ? std::clamp(conn.srtt + 4 * conn.rttvar, config_.rto_min, config_.rto_max)
                 : config_.rto_initial;
  if (conn.inflight.empty()) {
    net_.loop().cancel(conn.rto_timer);
    conn.rto_timer = 0;
  } else {
    arm_rto(peer, conn);
  }
  pump(peer, conn);
  if (conn.blocked && conn.queue.size() <= config_.send_queue_limit / 2) {
    conn.blocked = false;
    if (events_.on_writable) events_.on_writable(peer);
  }
}

void SimTransport::on_data(const PeerId& peer, std::uint64_t session, std::uint64_t seq,
                           Channel channel, Bytes payload) {
  Conn* conn = find(peer, session);
  if (conn == nullptr) return;
  std::vector<std::pair<Channel, Bytes>> ready;
  if (seq == conn->recv_next) {
    ready.emplace_back(channel, std::move(payload));
    ++conn->recv_next;
    for (auto it = conn->out_of_order.begin();
         it != conn->out_of_order.end() && it->first == conn->recv_next;
         it = conn->out_of_order.erase(it)) {
      ready.push_back(std::move(it->second));
      ++conn->recv_next;
    }
  } else if (seq > conn->recv_next && seq < conn->recv_next + 4 * config_.window) {
    conn->out_of_order.try_emplace(seq, channel, std::move(payload));
  }
  send_raw(*conn, kAck, u64_body(conn->recv_next - 1));
  auto alive = alive_;
  for (auto& [ch, msg] : ready) {
    ++stats_.messages_delivered;
    if (events_.on_message) events_.on_message(peer, ch, std::move(msg));
    if (!*alive || find(peer, session) == nullptr) return;
  }
}

void SimTransport::open_connection(const PeerId& peer, Conn& conn) {
  conn.open = true;
  conn.last_heard = net_.loop().now();
  conn.rto = config_.rto_initial;
  net_.loop().cancel(conn.rto_timer);
  conn.rto_timer = 0;
  if (events_.on_connected) events_.on_connected(peer);
}

void SimTransport::close(const PeerId& peer, DisconnectReason reason, const std::string& detail,
                         bool notify_remote) {
  auto it = conns_.find(peer);
  if (it == conns_.end()) return;
  if (notify_remote && it->second.open) send_raw(it->second, kFin, {});
  net_.loop().cancel(it->second.rto_timer);
  conns_.erase(it);
  if (events_.on_disconnected) events_.on_disconnected(peer, reason, detail);
}

void SimTransport::tick() {
  tick_timer_ = 0;
  if (!started_) return;
  Instant now = net_.loop().now();
  std::vector<std::pair<PeerId, std::string>> dead;
  for (auto& [peer, conn] : conns_) {
    if (!conn.open) {
      if (now - conn.started > config_.connect_timeout)
        dead.emplace_back(peer, "connect timed out");
      continue;
    }
    if (now - conn.last_heard > config_.idle_timeout) {
      dead.emplace_back(peer, "idle timeout");
    } else if (now - conn.last_heard >= config_.keepalive) {
      send_raw(conn, kPing, {});
    }
  }
  auto alive = alive_;
  tick_timer_ = net_.loop().call_after(config_.keepalive, [this, alive] {
    if (*alive) tick();
  });
  for (const auto& [peer, detail] : dead) {
    close(peer, DisconnectReason::kTimeout, detail, false);
    if (!*alive) return;
  }
}

void SimTransport::on_packet(const Packet& packet) {
  if (!started_ || crashed_) return;
  const Bytes& d = packet.data;
  if (d.size() < kHeader) {
    ++stats_.invalid_packets;
    return;
  }
  const PeerId& peer = packet.from.host;
  std::uint8_t type = d[0];
  std::uint64_t theirs = get_u64(&d[1]);
  std::uint64_t ours = get_u64(&d[9]);

  if (type == kSyn) {
    if (d.size() < kHeader + 8) {
      ++stats_.invalid_packets;
      return;
    }
    // A SYN of an older attempt (delayed or duplicated by the network) must not replace the
    // connection a newer attempt opened.
    const std::uint64_t order = get_u64(&d[kHeader]);
    auto& newest = newest_syn_[peer];
    if (order < newest) return;
    newest = order;
    auto it = conns_.find(peer);
    if (it != conns_.end()) {
      Conn& conn = it->second;
      if (conn.open && conn.remote_session == theirs) {
        send_raw(conn, kSynAck, {});  // our SYN-ACK was lost
        return;
      }
      if (!conn.open) {  // simultaneous open: adopt their session
        conn.remote_session = theirs;
        conn.remote = packet.from;
        send_raw(conn, kSynAck, {});
        open_connection(peer, conn);
        return;
      }
      close(peer, DisconnectReason::kRemoteClosed, "peer restarted", false);
    }
    Conn& conn = conns_[peer];
    conn.local_session = net_.rng().next_u64() | 1;
    conn.remote_session = theirs;
    conn.remote = packet.from;
    conn.started = net_.loop().now();
    send_raw(conn, kSynAck, {});
    open_connection(peer, conn);
    return;
  }

  Conn* conn = find(peer, ours);
  if (conn == nullptr) return;  // stale session
  if (type == kSynAck) {
    if (!conn->open) {
      conn->remote_session = theirs;
      open_connection(peer, *conn);
    }
    return;
  }
  if (!conn->open || conn->remote_session != theirs) return;
  conn->last_heard = net_.loop().now();
  switch (type) {
    case kData: {
      if (d.size() < kHeader + 9 || d[kHeader + 8] > 3) {
        ++stats_.invalid_packets;
        return;
      }
      on_data(peer, ours, get_u64(&d[kHeader]), static_cast<Channel>(d[kHeader + 8]),
              Bytes(d.begin() + kHeader + 9, d.end()));
      return;
    }
    case kAck:
      if (d.size() < kHeader + 8) {
        ++stats_.invalid_packets;
        return;
      }
      on_ack(peer, *conn, get_u64(&d[kHeader]));
      return;
    case kDgram:
      ++stats_.datagrams_received;
      if (events_.on_datagram) events_.on_datagram(peer, Bytes(d.begin() + kHeader, d.end()));
      return;
    case kPing:
      send_raw(*conn, kPong, {});
      return;
    case kPong:
      return;
    case kFin:
      close(peer, DisconnectReason::kRemoteClosed, "", false);
      return;
    default:
      ++stats_.invalid_packets;
      return;
  }
}

}  // namespace peat::sim
