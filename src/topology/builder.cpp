#include "peat/topology/builder.hpp"

#include <cmath>
#include <set>

namespace peat::topology {

const char* event_name(const TopologyEvent& e) {
  static constexpr const char* kNames[] = {
      "PeerSelected",          "PeerChanged",     "PeerLost",    "PeerAdded",   "PeerRemoved",
      "LateralPeerDiscovered", "LateralPeerLost", "RoleChanged", "LevelChanged"};
  return kNames[e.index()];
}

Duration TopologyConfig::backoff(std::uint32_t attempt) const {
  const double scaled = static_cast<double>(initial_backoff.count()) *
                        std::pow(backoff_multiplier, static_cast<double>(attempt));
  const double cap = static_cast<double>(max_backoff.count());
  return Duration(static_cast<Duration::rep>(scaled < cap ? scaled : cap));
}

TopologyBuilder::TopologyBuilder(TopologyConfig config, std::string node_id,
                                 beacon::GeoPosition position, HierarchyLevel level)
    : config_(std::move(config)),
      node_id_(std::move(node_id)),
      position_(position),
      base_level_(level) {
  state_.hierarchy_level = level;
}

void TopologyBuilder::set_strategy(std::shared_ptr<const HierarchyStrategy> strategy,
                                   NodeProfile profile) {
  strategy_ = std::move(strategy);
  profile_ = profile;
}

std::vector<GeographicBeacon> TopologyBuilder::others(
    const std::vector<GeographicBeacon>& nearby) const {
  std::vector<GeographicBeacon> out;
  for (const auto& b : nearby) {
    if (b.node_id != node_id_) out.push_back(b);
  }
  return out;
}

std::vector<TopologyEvent> TopologyBuilder::evaluate(const std::vector<GeographicBeacon>& all,
                                                     Instant now) {
  std::vector<TopologyEvent> events;
  const auto nearby = others(all);

  // Level and role.
  if (strategy_ && profile_) {
    const auto level = strategy_->determine_level(*profile_);
    const auto role = strategy_->determine_role(*profile_, nearby);
    if (level != state_.hierarchy_level) {
      events.push_back(event::LevelChanged{state_.hierarchy_level, level});
      state_.hierarchy_level = level;
    }
    if (role != state_.role) {
      events.push_back(event::RoleChanged{state_.role, role});
      state_.role = role;
    }
  } else {
    state_.hierarchy_level = base_level_;
  }
  const auto level = state_.hierarchy_level;

  // Selected parent: keep while visible; drop after peer_timeout since it was last seen.
  bool need_parent = !state_.selected_peer.has_value();
  if (state_.selected_peer) {
    bool visible = false;
    for (const auto& b : nearby) {
      if (b.node_id == state_.selected_peer->node_id) {
        visible = true;
        state_.selected_peer->beacon = b;
        state_.selected_peer->last_seen = now;
      }
    }
    if (!visible && now - state_.selected_peer->last_seen > config_.peer_timeout) {
      events.push_back(event::PeerLost{state_.selected_peer->node_id});
      state_.selected_peer.reset();
      need_parent = true;
    }
  }
  if (need_parent) {
    PeerSelector selector(config_.selection, position_, level);
    if (auto best = selector.select_best(nearby)) {
      state_.selected_peer = SelectedPeer{best->beacon.node_id, best->beacon, now, now};
      events.push_back(event::PeerSelected{best->beacon.node_id, best->beacon});
    }
  }

  // Children (lower level) and lateral peers (same level).
  auto track = [&](std::map<std::string, Instant>& table, auto belongs, auto on_add, auto on_lost) {
    std::set<std::string> seen;
    for (const auto& b : nearby) {
      if (!belongs(b)) continue;
      seen.insert(b.node_id);
      auto [it, inserted] = table.insert_or_assign(b.node_id, now);
      if (inserted) events.push_back(on_add(b));
    }
    for (auto it = table.begin(); it != table.end();) {
      if (!seen.count(it->first) && now - it->second > config_.peer_timeout) {
        events.push_back(on_lost(it->first));
        it = table.erase(it);
      } else {
        ++it;
      }
    }
  };
  track(
      state_.linked_peers, [&](const GeographicBeacon& b) { return level > b.hierarchy_level; },
      [](const GeographicBeacon& b) -> TopologyEvent { return event::PeerAdded{b.node_id}; },
      [](const std::string& id) -> TopologyEvent { return event::PeerRemoved{id}; });
  track(
      state_.lateral_peers, [&](const GeographicBeacon& b) { return b.hierarchy_level == level; },
      [](const GeographicBeacon& b) -> TopologyEvent {
        return event::LateralPeerDiscovered{b.node_id, b};
      },
      [](const std::string& id) -> TopologyEvent { return event::LateralPeerLost{id}; });

  if (detector_) {
    std::map<std::string, GeographicBeacon> by_id;
    for (const auto& b : nearby) by_id.emplace(b.node_id, b);
    detector_->set_level(level);
    (void)detector_->check_partition(by_id, now);
  }
  return events;
}

std::vector<TopologyEvent> TopologyBuilder::reevaluate_peer(
    const std::vector<GeographicBeacon>& all, Instant now) {
  const auto nearby = others(all);
  PeerSelector selector(config_.selection, position_, state_.hierarchy_level);
  auto best = selector.select_best(nearby);
  if (!best) return {};
  if (!state_.selected_peer) {
    state_.selected_peer = SelectedPeer{best->beacon.node_id, best->beacon, now, now};
    return {event::PeerSelected{best->beacon.node_id, best->beacon}};
  }
  if (best->beacon.node_id == state_.selected_peer->node_id) return {};
  if (now - state_.selected_peer->selected_at < config_.peer_change_cooldown) return {};
  double current = 0;
  for (const auto& b : nearby) {
    if (b.node_id == state_.selected_peer->node_id && selector.is_valid(b)) {
      current = selector.score(b);
    }
  }
  if (best->score <= current * 1.1) return {};
  std::string old = state_.selected_peer->node_id;
  state_.selected_peer = SelectedPeer{best->beacon.node_id, best->beacon, now, now};
  return {event::PeerChanged{old, best->beacon.node_id, best->beacon}};
}

void TopologyBuilder::start(EventLoop& loop, std::function<std::vector<GeographicBeacon>()> nearby,
                            std::function<void(const TopologyEvent&)> sink) {
  if (loop_) return;
  loop_ = &loop;
  nearby_fn_ = std::move(nearby);
  sink_ = std::move(sink);
  timer_ = loop.call_after(Duration::zero(), [this] { tick(); });
}

void TopologyBuilder::stop() {
  if (!loop_) return;
  loop_->cancel(timer_);
  loop_ = nullptr;
}

void TopologyBuilder::tick() {
  if (!loop_) return;
  for (const auto& e : evaluate(nearby_fn_(), loop_->now())) {
    if (sink_) sink_(e);
  }
  if (!loop_) return;
  const Duration interval = config_.reevaluation_interval.value_or(std::chrono::seconds(60));
  timer_ = loop_->call_after(interval, [this] { tick(); });
}

}  // namespace peat::topology
