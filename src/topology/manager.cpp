#include "peat/topology/manager.hpp"

namespace peat::topology {

TopologyManager::TopologyManager(EventLoop& loop, transport::Transport& transport,
                                 TopologyBuilder& builder, AddressResolver resolve,
                                 MetricsCollector* metrics)
    : loop_(loop),
      transport_(transport),
      builder_(builder),
      resolve_(std::move(resolve)),
      metrics_(metrics) {}

TopologyManager::~TopologyManager() {
  stop();
}

Status TopologyManager::start(std::function<std::vector<GeographicBeacon>()> nearby) {
  if (running_) return {};
  transport::TransportEvents events;
  events.on_connected = [this](const transport::PeerId& p) { on_connected(p); };
  events.on_disconnected = [this](const transport::PeerId& p, transport::DisconnectReason,
                                  const std::string&) { on_failed(p); };
  events.on_message = [this](const transport::PeerId& p, transport::Channel c, Bytes m) {
    if (on_message_) on_message_(p, c, std::move(m));
  };
  transport_.set_events(std::move(events));
  PEAT_TRY_STATUS(transport_.start());
  running_ = true;
  nearby_ = std::move(nearby);
  builder_.start(loop_, nearby_, [this](const TopologyEvent& e) { handle_event(e); });
  return {};
}

void TopologyManager::stop() {
  if (!running_) return;
  running_ = false;
  builder_.stop();
  for (auto& [peer, p] : pending_) loop_.cancel(p.timer);
  pending_.clear();
  if (parent_) transport_.disconnect(*parent_);
  for (const auto& [peer, since] : laterals_) transport_.disconnect(peer);
  laterals_.clear();
  parent_.reset();
  parent_connected_ = false;
  transport_.stop();
}

void TopologyManager::record_event(const TopologyEvent& e) {
  if (!metrics_) return;
  metrics_->increment_event_counter(event_name(e));
  const auto& s = builder_.state();
  metrics_->set_linked_peer_count(s.linked_peers.size());
  metrics_->set_lateral_peer_count(s.lateral_peers.size());
  metrics_->set_hierarchy_level(s.hierarchy_level);
  metrics_->set_node_role(s.role);
}

void TopologyManager::handle_event(const TopologyEvent& e) {
  record_event(e);
  if (auto* sel = std::get_if<event::PeerSelected>(&e)) {
    parent_ = sel->node_id;
    parent_connected_ = false;
    if (metrics_) metrics_->set_parent_id(parent_);
    dial(sel->node_id, Kind::kParent);
  } else if (auto* chg = std::get_if<event::PeerChanged>(&e)) {
    cancel_pending(chg->old_peer_id);
    transport_.disconnect(chg->old_peer_id);
    parent_ = chg->new_peer_id;
    parent_connected_ = false;
    parent_lost_at_ = loop_.now();
    if (metrics_) {
      metrics_->increment_parent_switches();
      metrics_->set_parent_id(parent_);
      metrics_->set_parent_connected(false);
    }
    dial(chg->new_peer_id, Kind::kParent);
  } else if (auto* lost = std::get_if<event::PeerLost>(&e)) {
    cancel_pending(lost->node_id);
    transport_.disconnect(lost->node_id);
    parent_.reset();
    parent_connected_ = false;
    parent_lost_at_ = loop_.now();
    if (metrics_) {
      metrics_->set_parent_id(std::nullopt);
      metrics_->set_parent_connected(false);
    }
    if (nearby_) {
      for (const auto& next : builder_.reevaluate_peer(nearby_(), loop_.now())) handle_event(next);
    }
  } else if (auto* removed = std::get_if<event::PeerRemoved>(&e)) {
    if (transport_.is_connected(removed->linked_peer_id)) {
      transport_.disconnect(removed->linked_peer_id);
    }
  } else if (auto* lat = std::get_if<event::LateralPeerDiscovered>(&e)) {
    const auto limit = builder_.config().max_lateral_connections;
    std::size_t used = laterals_.size();
    for (const auto& [peer, p] : pending_) used += p.kind == Kind::kLateral ? 1 : 0;
    if (limit && used >= *limit) return;  // skip, keep handling later events
    dial(lat->peer_id, Kind::kLateral);
  } else if (auto* latl = std::get_if<event::LateralPeerLost>(&e)) {
    cancel_pending(latl->peer_id);
    if (laterals_.erase(latl->peer_id)) transport_.disconnect(latl->peer_id);
  }
  // PeerAdded (children dial us), RoleChanged and LevelChanged need no connection change.
}

void TopologyManager::dial(const std::string& peer, Kind kind) {
  auto& p = pending_[peer];
  p.kind = kind;
  p.retrying = false;
  if (transport_.is_connected(peer)) {
    on_connected(peer);
    return;
  }
  transport_.connect(peer, resolve_ ? resolve_(peer) : std::vector<transport::PeerAddress>{});
}

void TopologyManager::cancel_pending(const std::string& peer) {
  auto it = pending_.find(peer);
  if (it == pending_.end()) return;
  loop_.cancel(it->second.timer);
  pending_.erase(it);
}

void TopologyManager::on_connected(const std::string& peer) {
  auto it = pending_.find(peer);
  if (it == pending_.end()) return;  // inbound (a child dialled us) or no longer wanted
  const Kind kind = it->second.kind;
  loop_.cancel(it->second.timer);
  pending_.erase(it);
  if (kind == Kind::kLateral) {
    laterals_[peer] = loop_.now();
    return;
  }
  if (parent_ != peer) return;
  parent_connected_ = true;
  if (metrics_) {
    metrics_->set_parent_connected(true);
    metrics_->record_connection_success(loop_.now());
    if (parent_lost_at_) metrics_->record_failover_duration(loop_.now() - *parent_lost_at_);
  }
  parent_lost_at_.reset();
  flush();
}

void TopologyManager::on_failed(const std::string& peer) {
  if (laterals_.erase(peer)) {
    // A connected lateral dropped: try to get it back.
    pending_[peer] = Pending{Kind::kLateral};
  }
  if (parent_ == peer && parent_connected_) {
    parent_connected_ = false;
    parent_lost_at_ = loop_.now();
    if (metrics_) metrics_->set_parent_connected(false);
    pending_[peer] = Pending{Kind::kParent};
  }
  auto it = pending_.find(peer);
  if (it == pending_.end() || !running_) return;
  auto& p = it->second;
  if (p.retrying) {
    ++p.failed_retries;
    if (metrics_) metrics_->increment_retry_attempts();
  }
  const auto& cfg = builder_.config();
  if (cfg.max_retries == 0 || p.failed_retries >= cfg.max_retries) {
    if (metrics_ && p.kind == Kind::kParent)
      metrics_->record_failover_retry_attempts(p.failed_retries);
    pending_.erase(it);
    return;
  }
  p.retrying = true;
  p.timer = loop_.call_after(cfg.backoff(p.failed_retries), [this, peer] {
    auto again = pending_.find(peer);
    if (again == pending_.end()) return;
    transport_.connect(peer, resolve_ ? resolve_(peer) : std::vector<transport::PeerAddress>{});
  });
}

Status TopologyManager::send_telemetry(routing::DataPacket packet) {
  const std::size_t max = builder_.config().max_telemetry_buffer_size;
  if (max == 0) {
    return make_error("BUFFERING_DISABLED",
                      "Telemetry buffering is disabled (max_telemetry_buffer_size = 0)");
  }
  if (buffer_.size() >= max) buffer_.pop_front();
  buffer_.push_back(std::move(packet));
  if (metrics_) {
    metrics_->increment_telemetry_buffered();
    metrics_->set_buffer_utilization(buffer_.size(), max);
  }
  if (parent_connected_) flush();
  return {};
}

void TopologyManager::flush() {
  if (!parent_ || !parent_connected_) return;
  const std::size_t used = buffer_.size();
  while (!buffer_.empty()) {
    const std::string json = routing::to_json(buffer_.front());
    buffer_.pop_front();
    if (transport_.send(*parent_, transport::Channel::kControl, as_bytes(json)) && metrics_) {
      metrics_->increment_telemetry_sent();
    }
  }
  if (metrics_) {
    metrics_->record_failover_buffer_usage(used, builder_.config().max_telemetry_buffer_size);
    metrics_->set_buffer_utilization(0, builder_.config().max_telemetry_buffer_size);
  }
}

bool TopologyManager::is_connected_to_peer() const {
  return parent_ && parent_connected_ && transport_.is_connected(*parent_);
}

std::vector<std::string> TopologyManager::lateral_peer_ids() const {
  std::vector<std::string> out;
  for (const auto& [id, since] : laterals_) out.push_back(id);
  return out;
}

std::uint32_t TopologyManager::retry_count(const std::string& peer) const {
  auto it = pending_.find(peer);
  return it == pending_.end() ? 0 : it->second.failed_retries;
}

}  // namespace peat::topology
