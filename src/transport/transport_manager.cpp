#include "peat/transport/transport_manager.hpp"

#include <algorithm>
#include <limits>

#include "peat/common/byte_io.hpp"

namespace peat::transport {

namespace {

// Frames the manager exchanges inside each link's messages/datagrams:
// 0x50 | type | body. DATA: stream u64 BE | seq u64 BE | channel u8 | payload.
// ACK: stream u64 BE | cumulative u64 BE. PING/PONG: nonce u64 BE.
// `stream` is a random id of the sender's stream to this peer: a restarted sender starts a new
// stream at sequence 1, and the receiver starts over instead of taking it for duplicates.
constexpr std::uint8_t kFrameMagic = 0x50;
enum : std::uint8_t { kData = 1, kAck = 2, kPing = 3, kPong = 4 };
constexpr std::size_t kDataOverhead = 2 + 8 + 8 + 1;
constexpr std::size_t kRetiredStreams = 8;

BeWriter frame_start(std::uint8_t type) {
  BeWriter w;
  w.u8(kFrameMagic);
  w.u8(type);
  return w;
}
Bytes frame(std::uint8_t type, std::uint64_t value) {
  BeWriter w = frame_start(type);
  w.u64(value);
  return w.take();
}
std::pair<std::string, std::string> split_key(const std::string& key) {
  auto pos = key.find('\n');
  return {key.substr(0, pos), key.substr(pos + 1)};
}

}  // namespace

TransportManager::TransportManager(EventLoop& loop, Rng& rng, TransportManagerConfig config)
    : loop_(loop),
      rng_(rng),
      config_(config),
      health_(config.health),
      reconnect_(config.reconnect, rng) {}

TransportManager::~TransportManager() {
  *alive_ = false;
  loop_.cancel(tick_timer_);
  for (auto& [id, link] : links_) link.transport->set_events({});
}

Status TransportManager::add_link(const std::string& id, Transport& transport) {
  if (links_.contains(id)) return make_error("ALREADY_EXISTS", "link " + id + " exists");
  links_[id] = Link{&transport};
  auto alive = alive_;
  TransportEvents e;
  e.on_connected = [this, alive, id](const PeerId& peer) {
    if (*alive) on_connected(id, peer);
  };
  e.on_disconnected = [this, alive, id](const PeerId& peer, DisconnectReason reason,
                                        const std::string& detail) {
    if (*alive) on_disconnected(id, peer, std::string(to_string(reason)) + " " + detail);
  };
  e.on_message = [this, alive, id](const PeerId& peer, Channel, Bytes data) {
    if (*alive) on_frame(id, peer, data);
  };
  e.on_datagram = [this, alive, id](const PeerId& peer, Bytes data) {
    if (*alive) on_frame(id, peer, data);
  };
  e.on_writable = [this, alive, id](const PeerId& peer) {
    if (!*alive) return;
    auto it = peers_.find(peer);
    if (it != peers_.end() && it->second.active == id) flush(peer, it->second);
  };
  transport.set_events(std::move(e));
  return {};
}

void TransportManager::remove_link(const std::string& id) {
  auto it = links_.find(id);
  if (it == links_.end()) return;
  it->second.transport->set_events({});
  links_.erase(it);
  for (auto& [peer, st] : peers_) {
    st.links.erase(id);
    health_.stop_monitoring(key(peer, id));
    reconnect_.remove(key(peer, id));
    if (st.active == id) select(peer, st);
  }
}

void TransportManager::start() {
  if (running_) return;
  running_ = true;
  auto alive = alive_;
  tick_timer_ = loop_.call_after(config_.tick, [this, alive] {
    if (*alive) tick();
  });
}

void TransportManager::stop() {
  running_ = false;
  loop_.cancel(tick_timer_);
  tick_timer_ = 0;
}

TransportManager::PeerState& TransportManager::peer_state(const PeerId& peer) {
  auto [it, inserted] = peers_.try_emplace(peer);
  if (inserted) it->second.stream = rng_.next_u64();
  return it->second;
}

void TransportManager::add_peer(const PeerId& peer,
                                std::map<std::string, std::vector<PeerAddress>> addresses) {
  PeerState& st = peer_state(peer);
  st.addresses = std::move(addresses);
  std::vector<std::string> ids;
  for (const auto& [id, addrs] : st.addresses) ids.push_back(id);
  for (const auto& id : ids) try_connect(id, peer);
}

void TransportManager::remove_peer(const PeerId& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  std::vector<std::string> ids;
  for (const auto& [id, lp] : it->second.links) ids.push_back(id);
  peers_.erase(it);
  for (const auto& id : ids) {
    health_.stop_monitoring(key(peer, id));
    reconnect_.remove(key(peer, id));
    auto link = links_.find(id);
    if (link != links_.end()) link->second.transport->disconnect(peer);
  }
}

void TransportManager::try_connect(const std::string& link, const PeerId& peer) {
  auto l = links_.find(link);
  auto p = peers_.find(peer);
  if (l == links_.end() || p == peers_.end()) return;
  LinkPeer& lp = p->second.links[link];
  if (lp.connected || lp.connecting) return;
  lp.connecting = true;
  ++stats_.reconnect_attempts;
  auto addrs =
      p->second.addresses.count(link) ? p->second.addresses[link] : std::vector<PeerAddress>{};
  l->second.transport->connect(peer, addrs);
}

void TransportManager::on_connected(const std::string& link, const PeerId& peer) {
  PeerState& st = peer_state(peer);
  LinkPeer& lp = st.links[link];
  lp.connected = true;
  lp.connecting = false;
  lp.healthy_since = loop_.now();
  lp.healthy_tracked = true;
  reconnect_.reconnected(key(peer, link));
  health_.start_monitoring(key(peer, link), loop_.now());
  if (events_.on_link_changed) events_.on_link_changed(peer, link, true);
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  if (it->second.active == link) {
    // A new session on the active link: whatever was in flight on the old one is gone.
    switch_to(peer, it->second, link, true);
  } else {
    select(peer, it->second);
  }
}

void TransportManager::link_lost(const std::string& link, const PeerId& peer, PeerState& st,
                                 const std::string& detail) {
  LinkPeer& lp = st.links[link];
  const bool was_connected = lp.connected;
  const bool was_connecting = lp.connecting;
  lp.connected = false;
  lp.connecting = false;
  lp.healthy_tracked = false;
  health_.stop_monitoring(key(peer, link));
  if (st.addresses.contains(link)) {  // we dial this link: retry with backoff
    const std::string k = key(peer, link);
    if (was_connecting && reconnect_.is_pending(k)) {
      reconnect_.failed(k, detail, loop_.now());
    } else {
      reconnect_.schedule_reconnect(k, true, loop_.now());
    }
  }
  if (was_connected && events_.on_link_changed) events_.on_link_changed(peer, link, false);
}

void TransportManager::on_disconnected(const std::string& link, const PeerId& peer,
                                       const std::string& detail) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  auto lp = it->second.links.find(link);
  if (lp == it->second.links.end() || (!lp->second.connected && !lp->second.connecting)) return;
  link_lost(link, peer, it->second, detail);
  it = peers_.find(peer);
  if (it != peers_.end()) select(peer, it->second);
}

std::optional<ConnectionState> TransportManager::state_of(const PeerId& peer,
                                                          const std::string& link) const {
  auto h = health_.get_health(key(peer, link));
  if (!h) return std::nullopt;
  return h->state;
}

bool TransportManager::usable(const PeerId& peer, const PeerState& st,
                              const std::string& link) const {
  auto lp = st.links.find(link);
  if (lp == st.links.end() || !lp->second.connected || !links_.contains(link)) return false;
  if (!config_.health.enabled) return true;
  auto s = state_of(peer, link);
  return s && (*s == ConnectionState::kHealthy || *s == ConnectionState::kDegraded);
}

std::vector<std::string> TransportManager::ranked_links(const PeerState& st) const {
  std::set<std::string> ids;
  for (const auto& [id, lp] : st.links) {
    if (links_.contains(id)) ids.insert(id);
  }
  for (const auto& [id, a] : st.addresses) {
    if (links_.contains(id)) ids.insert(id);
  }
  std::vector<std::string> ordered = policy_.ordered();
  auto position = [&](const std::string& id) {
    auto it = std::find(ordered.begin(), ordered.end(), id);
    return static_cast<std::size_t>(it - ordered.begin());  // not listed: after all listed
  };
  std::vector<std::string> out(ids.begin(), ids.end());
  MessageRequirements req;
  std::stable_sort(out.begin(), out.end(), [&](const std::string& a, const std::string& b) {
    auto pa = position(a), pb = position(b);
    if (pa != pb) return pa < pb;
    return score(links_.at(a).transport->capabilities(), req) >
           score(links_.at(b).transport->capabilities(), req);
  });
  return out;
}

void TransportManager::switch_to(const PeerId& peer, PeerState& st, const std::string& to,
                                 bool forced) {
  std::string from = st.active;
  st.active = to;
  st.last_switch = loop_.now();
  st.ever_switched = true;
  if (forced) {
    // The previous link failed: everything not acknowledged may be lost, resend it all.
    st.sent_upto = st.unacked.empty() ? st.next_seq - 1 : st.unacked.begin()->first - 1;
    st.last_ack_progress = loop_.now();
    if (!to.empty() && !from.empty() && from != to) ++stats_.failovers;
  } else {
    ++stats_.failbacks;
  }
  if (from != to && events_.on_active_link_changed) {
    auto alive = alive_;
    events_.on_active_link_changed(peer, from, to);
    if (!*alive) return;
    auto it = peers_.find(peer);
    if (it == peers_.end() || &it->second != &st) return;
  }
  flush(peer, st);
}

void TransportManager::select(const PeerId& peer, PeerState& st) {
  const Instant now = loop_.now();
  auto ranked = ranked_links(st);
  const bool current_ok = !st.active.empty() && usable(peer, st, st.active);
  if (!current_ok) {
    std::string best;
    for (const auto& id : ranked) {
      if (usable(peer, st, id)) {
        best = id;
        break;
      }
    }
    if (best != st.active) switch_to(peer, st, best, true);
    return;
  }
  if (st.ever_switched && now - st.last_switch < config_.min_dwell) return;
  // Failback: a better-ranked link that has been Healthy for failback_hold.
  for (const auto& id : ranked) {
    if (id == st.active) return;  // nothing better than the current link
    auto lp = st.links.find(id);
    if (lp == st.links.end() || !lp->second.connected || !lp->second.healthy_tracked) continue;
    if (state_of(peer, id) != ConnectionState::kHealthy && config_.health.enabled) continue;
    if (now - lp->second.healthy_since < config_.failback_hold) continue;
    switch_to(peer, st, id, false);
    return;
  }
}

bool TransportManager::send_frame(const std::string& link, const PeerId& peer, Channel channel,
                                  ByteView data) {
  auto it = links_.find(link);
  if (it == links_.end()) return false;
  Transport& t = *it->second.transport;
  Status s = t.capabilities().reliable ? t.send(peer, channel, data) : t.send_datagram(peer, data);
  return s.ok();
}

void TransportManager::flush(const PeerId& peer, PeerState& st) {
  if (st.active.empty()) return;
  for (auto it = st.unacked.upper_bound(st.sent_upto); it != st.unacked.end(); ++it) {
    BeWriter w = frame_start(kData);
    w.u64(st.stream);
    w.u64(it->first);
    w.u8(static_cast<std::uint8_t>(it->second.channel));
    w.bytes(it->second.payload);
    const Bytes f = w.take();
    if (!send_frame(st.active, peer, it->second.channel, f)) return;  // retried later
    st.sent_upto = it->first;
    ++stats_.frames_sent;
    if (it->second.transmitted) ++stats_.retransmissions;
    if (config_.redundant && !it->second.transmitted) {
      // First copy also over every other usable link; the receiver keeps whichever arrives
      // first. Only the active link is retransmitted on.
      for (const auto& [id, lp] : st.links) {
        if (id != st.active && usable(peer, st, id) &&
            send_frame(id, peer, it->second.channel, f)) {
          ++stats_.redundant_copies;
        }
      }
    }
    it->second.transmitted = true;
  }
}

Status TransportManager::send(const PeerId& peer, Channel channel, ByteView message) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return make_error("UNKNOWN_PEER", "no peer " + peer);
  PeerState& st = it->second;
  std::size_t limit = std::numeric_limits<std::size_t>::max();
  for (const auto& id : ranked_links(st)) {
    std::size_t max = links_.at(id).transport->capabilities().max_message_size;
    if (max > 0) limit = std::min(limit, max);
  }
  if (message.size() + kDataOverhead > limit) {
    return make_error("MESSAGE_TOO_LARGE",
                      std::to_string(message.size()) + " bytes do not fit every link to " + peer);
  }
  if (st.unacked.size() >= config_.max_unacked) {
    return make_error("WOULD_BLOCK", "too many unacknowledged messages to " + peer);
  }
  if (st.unacked.empty()) st.last_ack_progress = loop_.now();
  st.unacked.emplace(st.next_seq++, Pending{channel, Bytes(message.begin(), message.end())});
  ++stats_.messages_sent;
  if (st.active.empty()) {
    select(peer, st);
  } else {
    flush(peer, st);
  }
  return {};
}

void TransportManager::send_ack(const PeerId& peer, PeerState& st) {
  st.unacked_received = 0;
  BeWriter w = frame_start(kAck);
  w.u64(st.recv_stream);
  w.u64(st.recv_next - 1);
  const Bytes f = w.take();
  if (!st.ack_link.empty() && send_frame(st.ack_link, peer, Channel::kControl, f)) return;
  if (!st.active.empty()) send_frame(st.active, peer, Channel::kControl, f);
}

void TransportManager::on_data(const std::string& link, const PeerId& peer, PeerState& st,
                               std::uint64_t seq, Channel channel, Bytes payload) {
  st.ack_link = link;
  if (seq < st.recv_next || st.reorder.contains(seq)) {
    ++stats_.duplicates_dropped;
    send_ack(peer, st);  // the sender may be resending because our acks were lost
    return;
  }
  if (seq - st.recv_next >= config_.max_reorder) return;  // too far ahead: it will be resent
  st.reorder.emplace(seq, Pending{channel, std::move(payload)});
  auto alive = alive_;
  while (!st.reorder.empty() && st.reorder.begin()->first == st.recv_next) {
    Pending msg = std::move(st.reorder.begin()->second);
    st.reorder.erase(st.reorder.begin());
    ++st.recv_next;
    ++st.unacked_received;
    ++stats_.messages_delivered;
    if (events_.on_message) {
      events_.on_message(peer, msg.channel, std::move(msg.payload));
      if (!*alive) return;
      auto it = peers_.find(peer);
      if (it == peers_.end() || &it->second != &st) return;
    }
  }
  if (st.unacked_received >= config_.ack_every) send_ack(peer, st);
}

void TransportManager::on_frame(const std::string& link, const PeerId& peer, ByteView f) {
  if (f.size() < 10 || f[0] != kFrameMagic) {
    ++stats_.invalid_frames;
    return;
  }
  // Only from peers connected on that link: frames from anyone else (e.g. spoofed UDP sources)
  // must not create state.
  auto known = peers_.find(peer);
  if (known == peers_.end()) {
    ++stats_.invalid_frames;
    return;
  }
  auto via = known->second.links.find(link);
  if (via == known->second.links.end() || !via->second.connected) {
    ++stats_.invalid_frames;
    return;
  }
  PeerState& st = known->second;
  BeReader r(f.subspan(2));
  const std::uint64_t value = *r.u64();  // f.size() >= 10 was checked above
  switch (f[1]) {
    case kData: {
      if (f.size() < kDataOverhead || f[18] > 3) {
        ++stats_.invalid_frames;
        return;
      }
      if (value != st.recv_stream) {
        auto& retired = st.retired_streams;
        if (std::find(retired.begin(), retired.end(), value) != retired.end()) return;  // stale
        if (st.recv_started) {
          // The sender restarted: a new stream begins at sequence 1.
          retired.push_back(st.recv_stream);
          if (retired.size() > kRetiredStreams) retired.erase(retired.begin());
        }
        st.recv_stream = value;
        st.recv_next = 1;
        st.reorder.clear();
        st.unacked_received = 0;
      }
      st.recv_started = true;
      const std::uint64_t seq = *r.u64();
      on_data(link, peer, st, seq, static_cast<Channel>(f[18]),
              Bytes(f.begin() + kDataOverhead, f.end()));
      return;
    }
    case kAck: {
      if (f.size() < 18) {
        ++stats_.invalid_frames;
        return;
      }
      if (value != st.stream) return;  // for an earlier incarnation of us
      const std::uint64_t cumulative = *r.u64();
      if (cumulative >= st.next_seq) {  // acknowledges something never sent
        ++stats_.invalid_frames;
        return;
      }
      bool progress = false;
      while (!st.unacked.empty() && st.unacked.begin()->first <= cumulative) {
        st.unacked.erase(st.unacked.begin());
        progress = true;
      }
      if (progress) st.last_ack_progress = loop_.now();
      st.sent_upto = std::max(st.sent_upto, cumulative);
      return;
    }
    case kPing:
      send_frame(link, peer, Channel::kControl, frame(kPong, value));
      return;
    case kPong:
      health_.record_pong_received(key(peer, link), value, loop_.now());
      return;
    default:
      ++stats_.invalid_frames;
      return;
  }
}

void TransportManager::tick() {
  tick_timer_ = 0;
  if (!running_) return;
  auto alive = alive_;
  const Instant now = loop_.now();

  for (const auto& k : health_.peers_needing_ping(now)) {
    auto seq = health_.record_ping_sent(k, now);
    auto [peer, link] = split_key(k);
    if (seq) send_frame(link, peer, Channel::kControl, frame(kPing, *seq));
  }
  for (const auto& k : health_.check_timeouts(now)) {
    auto [peer, link] = split_key(k);
    auto it = peers_.find(peer);
    if (it == peers_.end()) continue;
    link_lost(link, peer, it->second, "health check: dead");
    auto l = links_.find(link);
    if (l != links_.end()) l->second.transport->disconnect(peer);  // its event is ignored
    if (!*alive) return;
  }

  std::vector<PeerId> ids;
  for (const auto& [peer, st] : peers_) ids.push_back(peer);
  for (const auto& peer : ids) {
    auto it = peers_.find(peer);
    if (it == peers_.end()) continue;
    PeerState& st = it->second;
    for (auto& [link, lp] : st.links) {
      bool healthy = lp.connected &&
                     (!config_.health.enabled || state_of(peer, link) == ConnectionState::kHealthy);
      if (healthy && !lp.healthy_tracked) lp.healthy_since = now;
      lp.healthy_tracked = healthy;
    }
    if (st.unacked_received > 0) send_ack(peer, st);
    if (!st.unacked.empty() && !st.active.empty() &&
        now - st.last_ack_progress > config_.retransmit_timeout) {
      st.sent_upto = st.unacked.begin()->first - 1;
      st.last_ack_progress = now;
      flush(peer, st);
    }
    select(peer, st);
    if (!*alive) return;
  }

  for (const auto& k : reconnect_.due_reconnections(now)) {
    auto [peer, link] = split_key(k);
    try_connect(link, peer);
    if (!*alive) return;
  }

  if (running_) {
    tick_timer_ = loop_.call_after(config_.tick, [this, alive] {
      if (*alive) tick();
    });
  }
}

std::optional<std::string> TransportManager::active_link(const PeerId& peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end() || it->second.active.empty()) return std::nullopt;
  return it->second.active;
}

PaceLevel TransportManager::current_level(const PeerId& peer) const {
  auto link = active_link(peer);
  return link ? policy_.level_of(*link) : PaceLevel::kNone;
}

bool TransportManager::link_usable(const PeerId& peer, const std::string& link) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && usable(peer, it->second, link);
}

std::optional<ConnectionHealth> TransportManager::link_health(const PeerId& peer,
                                                              const std::string& link) const {
  return health_.get_health(key(peer, link));
}

std::size_t TransportManager::unacked(const PeerId& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? 0 : it->second.unacked.size();
}

}  // namespace peat::transport
