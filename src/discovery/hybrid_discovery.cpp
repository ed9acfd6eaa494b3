#include "peat/discovery/hybrid_discovery.hpp"

namespace peat::discovery {

HybridDiscovery::~HybridDiscovery() {
  std::lock_guard lock(mu_);
  for (auto& [name, child] : children_) {
    if (child.stream) child.stream->set_notify(nullptr);
  }
}

void HybridDiscovery::add_strategy(const std::string& name,
                                   std::shared_ptr<DiscoveryStrategy> strategy) {
  std::lock_guard lock(mu_);
  auto& child = children_[name];
  if (child.stream) child.stream->set_notify(nullptr);
  child = Child{std::move(strategy), nullptr, {}};
}

bool HybridDiscovery::remove_strategy(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = children_.find(name);
  if (it == children_.end()) return false;
  if (it->second.stream) it->second.stream->set_notify(nullptr);
  children_.erase(it);
  return true;
}

bool HybridDiscovery::has_strategy(const std::string& name) const {
  std::lock_guard lock(mu_);
  return children_.count(name) != 0;
}

std::size_t HybridDiscovery::strategy_count() const {
  std::lock_guard lock(mu_);
  return children_.size();
}

Status HybridDiscovery::start() {
  std::vector<std::pair<std::string, std::shared_ptr<DiscoveryStrategy>>> todo;
  {
    std::lock_guard lock(mu_);
    if (running_) return {};
    running_ = true;
    for (auto& [name, child] : children_) {
      if (!child.stream) todo.emplace_back(name, child.strategy);
    }
  }
  // Children are started without our lock: they may emit (and so call pump) synchronously.
  for (auto& [name, strategy] : todo) {
    auto stream = strategy->event_stream();
    if (!stream) {
      return config_error("Failed to get event stream for strategy '" + name +
                          "': " + stream.error().message);
    }
    {
      std::lock_guard lock(mu_);
      auto it = children_.find(name);
      if (it == children_.end()) continue;
      it->second.stream = *stream;
    }
    (*stream)->set_notify([this, n = name] { pump(n); });
    if (auto st = strategy->start(); !st) {
      return config_error("Failed to start strategy '" + name + "': " + st.error().message);
    }
    pump(name);  // events queued before the notify was installed
  }
  return {};
}

Status HybridDiscovery::stop() {
  std::vector<std::shared_ptr<DiscoveryStrategy>> all;
  {
    std::lock_guard lock(mu_);
    running_ = false;
    for (auto& [name, child] : children_) all.push_back(child.strategy);
  }
  for (auto& s : all) (void)s->stop();
  return {};
}

Status HybridDiscovery::advertise(const std::string& node_id, std::uint16_t port) {
  std::vector<std::shared_ptr<DiscoveryStrategy>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, child] : children_) all.push_back(child.strategy);
  }
  for (auto& s : all) (void)s->advertise(node_id, port);
  return {};
}

std::vector<PeerInfo> HybridDiscovery::discovered_peers() const {
  std::lock_guard lock(mu_);
  std::vector<PeerInfo> out;
  for (const auto& [id, p] : merged_) out.push_back(p);
  return out;
}

void HybridDiscovery::pump(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = children_.find(name);
  if (it == children_.end() || !it->second.stream) return;
  for (auto& e : it->second.stream->drain()) merge(it->second, std::move(e));
}

void HybridDiscovery::merge(Child& child, DiscoveryEvent event) {
  if (auto* f = std::get_if<PeerFound>(&event)) {
    child.seen[f->peer.node_id] = f->peer;
    const bool is_new = merged_.count(f->peer.node_id) == 0;
    merged_[f->peer.node_id] = f->peer;
    if (is_new) {
      emit(PeerFound{f->peer});
    } else {
      emit(PeerUpdated{f->peer});
    }
  } else if (auto* u = std::get_if<PeerUpdated>(&event)) {
    child.seen[u->peer.node_id] = u->peer;
    auto m = merged_.find(u->peer.node_id);
    if (m == merged_.end()) return;  // unknown node: dropped, as in Rust
    m->second = u->peer;
    emit(PeerUpdated{u->peer});
  } else {
    const std::string id = std::get<PeerLost>(event).node_id;
    child.seen.erase(id);
    auto m = merged_.find(id);
    if (m == merged_.end()) return;
    for (const auto& [other_name, other] : children_) {
      auto s = other.seen.find(id);
      if (s != other.seen.end()) {
        m->second = s->second;
        emit(PeerUpdated{s->second});
        return;
      }
    }
    merged_.erase(m);
    emit(PeerLost{id});
  }
}

}  // namespace peat::discovery
