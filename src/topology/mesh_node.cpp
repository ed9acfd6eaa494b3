#include "peat/topology/mesh_node.hpp"

namespace peat::topology {

namespace {
MembershipConfig with_roster(MembershipConfig m,
                             const std::map<std::string, std::vector<transport::PeerAddress>>& p,
                             Rng& rng) {
  if (m.incarnation == 0) m.incarnation = rng.next_u64();
  m.roster.clear();
  for (const auto& [id, addrs] : p) m.roster.push_back(id);
  return m;
}
}  // namespace

MeshNode::MeshNode(EventLoop& loop, transport::Transport& transport, MeshNodeConfig config,
                   std::shared_ptr<Rng> rng)
    : loop_(loop),
      transport_(transport),
      config_(std::move(config)),
      rng_(std::move(rng)),
      membership_(with_roster(config_.membership, config_.peers, *rng_)),
      router_({config_.membership.node_id, config_.dedup, config_.aggregate_telemetry,
               config_.aggregation_threshold},
              std::make_unique<routing::BundleAggregator>(rng_)) {}

MeshNode::~MeshNode() {
  stop();
}

Status MeshNode::start() {
  if (running_) return {};
  transport::TransportEvents events;
  events.on_datagram = [this](const transport::PeerId& from, Bytes data) {
    if (membership_.on_heartbeat(from, data, loop_.now())) {
      ++stats_.heartbeats_received;
    } else {
      ++stats_.heartbeats_rejected;
    }
  };
  events.on_message = [this](const transport::PeerId& from, transport::Channel channel,
                             Bytes message) {
    if (channel == transport::Channel::kControl) on_message(from, std::move(message));
  };
  transport_.set_events(std::move(events));
  PEAT_TRY_STATUS(transport_.start());
  running_ = true;
  timer_ = loop_.call_after(Duration::zero(), [this] { tick(); });
  return {};
}

void MeshNode::stop() {
  if (!running_) return;
  running_ = false;
  loop_.cancel(timer_);
  transport_.stop();
}

void MeshNode::tick() {
  if (!running_) return;
  const Instant now = loop_.now();
  // Static discovery: the smaller id dials; re-dial unreachable peers periodically.
  for (const auto& [peer, addrs] : config_.peers) {
    if (peer <= id() || transport_.is_connected(peer)) continue;
    auto it = last_dial_.find(peer);
    if (it != last_dial_.end() && now - it->second < config_.redial_interval) continue;
    last_dial_[peer] = now;
    transport_.connect(peer, addrs);
  }
  const Bytes hb = membership_.make_heartbeat();
  for (const auto& peer : transport_.connected_peers()) {
    if (transport_.send_datagram(peer, hb)) ++stats_.heartbeats_sent;
  }
  for (const auto& e : membership_.evaluate(now)) {
    if (on_event_) on_event_(e);
  }
  if (running_) {
    timer_ = loop_.call_after(config_.membership.heartbeat_interval, [this] { tick(); });
  }
}

void MeshNode::forward(routing::DataPacket packet, const std::vector<std::string>& hops) {
  packet.increment_hop();
  const std::string json = routing::to_json(packet);
  for (const auto& hop : hops) {
    if (transport_.send(hop, transport::Channel::kControl, as_bytes(json))) {
      ++stats_.packets_forwarded;
    } else {
      ++stats_.send_failures;
    }
  }
}

Status MeshNode::send(routing::DataPacket packet) {
  const auto state = membership_.topology_state();
  auto hops = router_.router().next_hops_for(packet, state);
  if (hops.empty()) return make_error("NO_ROUTE", "no next hop for this packet");
  // Remember our own packet so an echo is dropped.
  (void)router_.router().dedup().check_and_record(packet.packet_id, loop_.now());
  const std::string json = routing::to_json(packet);
  std::size_t ok = 0;
  for (const auto& hop : hops) {
    if (transport_.send(hop, transport::Channel::kControl, as_bytes(json))) {
      ++ok;
    } else {
      ++stats_.send_failures;
    }
  }
  if (ok == 0) return make_error("NO_ROUTE", "every next hop refused the packet");
  return {};
}

Status MeshNode::send_telemetry(Bytes payload) {
  return send(routing::DataPacket::telemetry(*rng_, id(), std::move(payload)));
}

Status MeshNode::send_command(const std::string& destination, Bytes payload) {
  return send(routing::DataPacket::command(*rng_, id(), destination, std::move(payload)));
}

void MeshNode::on_message(const transport::PeerId&, Bytes message) {
  auto packet = routing::decode_packet(message);
  if (!packet) {
    ++stats_.packets_invalid;
    return;
  }
  const auto state = membership_.topology_state();
  auto result = router_.route(packet.value(), state, loop_.now());
  if (!routing::consumes(result.decision) && result.forward_to.empty()) {
    ++stats_.packets_dropped;
    return;
  }
  if (routing::consumes(result.decision)) {
    ++stats_.packets_consumed;
    if (on_packet_) on_packet_(packet.value());
  }
  if (result.forward_to.empty()) return;
  if (result.should_aggregate && config_.aggregate_telemetry) {
    auto bundled = router_.add_for_aggregation(packet.value(), config_.membership.group);
    if (bundled && bundled.value()) (void)send(std::move(*bundled.value()));
    return;
  }
  forward(std::move(packet.value()), result.forward_to);
}

}  // namespace peat::topology
