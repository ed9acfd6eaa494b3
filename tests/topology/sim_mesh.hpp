// A mesh of MeshNodes on the deterministic simulated network, shared by the multi-node tests
// and bench_topology. Nodes "node-000".. are split round-robin into `groups` groups; scores come
// from the seed, so a seed fixes the whole run.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "peat/sim/sim_loop.hpp"
#include "peat/sim/sim_network.hpp"
#include "peat/sim/sim_transport.hpp"
#include "peat/topology/mesh_node.hpp"

namespace peat::topology::testing {

struct SimMeshOptions {
  std::size_t nodes = 20;
  std::size_t groups = 4;
  std::uint64_t seed = 1;
  sim::LinkConfig link{};
  bool aggregate = false;
};

class SimMesh {
 public:
  explicit SimMesh(SimMeshOptions o) : opts(o), net(loop, o.seed) {
    net.set_default_link(o.link);
    SeededRng scores(o.seed ^ 0x5eed);
    for (std::size_t i = 0; i < o.nodes; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "node-%03zu", i);
      ids.emplace_back(name);
      net.add_node(name);
    }
    for (std::size_t i = 0; i < o.nodes; ++i) scores_.push_back(0.5 + scores.unit());
    transports.resize(o.nodes);
    nodes.resize(o.nodes);
    for (std::size_t i = 0; i < o.nodes; ++i) make_node(i, 0);
  }

  // (Re)creates node i's transport and MeshNode (after SimNetwork::restart for a crashed node).
  void make_node(std::size_t i, std::uint32_t incarnation) {
    nodes[i].reset();
    transports[i] = std::make_unique<sim::SimTransport>(net, ids[i]);
    MeshNodeConfig c;
    c.membership.node_id = ids[i];
    c.membership.group = group_of(i);
    c.membership.score = scores_[i];
    for (std::size_t j = 0; j < ids.size(); ++j) {
      if (j != i) c.peers[ids[j]] = {transport::PeerAddress{ids[j], 7000}};
    }
    c.aggregate_telemetry = opts.aggregate;
    c.aggregation_threshold = 2;
    nodes[i] = std::make_unique<MeshNode>(
        loop, *transports[i], c,
        std::make_shared<SeededRng>(opts.seed * 1000 + i + 7919ULL * incarnation));
    nodes[i]->on_packet([this, i](const routing::DataPacket& p) {
      ++consumed[{i, p.packet_id}];
      received[i].push_back(p);
    });
  }

  void start() {
    for (auto& n : nodes) (void)n->start();
  }

  // Runs the simulation until `done` holds, checking it every `step` of virtual time (the
  // predicates are O(n^2), too costly to check after every event), for at most `limit`.
  bool run_until(const std::function<bool()>& done, Duration limit,
                 Duration step = std::chrono::milliseconds(10)) {
    const Instant end = loop.now() + limit;
    while (!done()) {
      if (loop.now() >= end) return false;
      loop.run_for(step);
    }
    return true;
  }

  std::string group_of(std::size_t i) const { return "squad-" + std::to_string(i % opts.groups); }

  // Every node in `members` sees all others in it alive and none outside, there is exactly one
  // group leader per group among them that everyone agrees on, and one agreed top leader.
  bool converged(const std::vector<std::size_t>& members) const {
    std::map<std::string, std::string> leader_of;
    std::map<std::string, std::size_t> leaders;
    std::optional<std::string> top;
    for (auto i : members) {
      const auto& m = nodes[i]->membership();
      if (m.alive_peers().size() != members.size() - 1) return false;
      if (!m.group_leader()) return false;
      auto [it, fresh] = leader_of.emplace(group_of(i), *m.group_leader());
      if (!fresh && it->second != *m.group_leader()) return false;
      if (m.is_group_leader()) ++leaders[group_of(i)];
      if (!m.top_leader() || (top && *top != *m.top_leader())) return false;
      top = m.top_leader();
    }
    for (const auto& [g, leader] : leader_of) {
      if (leaders[g] != 1) return false;
    }
    return true;
  }
  bool converged() const { return converged(all()); }

  std::vector<std::size_t> all() const {
    std::vector<std::size_t> v;
    for (std::size_t i = 0; i < nodes.size(); ++i) v.push_back(i);
    return v;
  }
  std::size_t index_of(const std::string& id) const {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] == id) return i;
    }
    return ids.size();
  }
  bool all_connected(const std::vector<std::size_t>& members) const {
    for (auto i : members) {
      for (auto j : members) {
        if (i != j && !transports[i]->is_connected(ids[j])) return false;
      }
    }
    return true;
  }

  SimMeshOptions opts;
  sim::SimLoop loop;
  sim::SimNetwork net;
  std::vector<std::string> ids;
  std::vector<std::unique_ptr<sim::SimTransport>> transports;
  std::vector<std::unique_ptr<MeshNode>> nodes;
  std::map<std::pair<std::size_t, std::string>, int> consumed;  // (node, packet id) -> count
  std::map<std::size_t, std::vector<routing::DataPacket>> received;

 private:
  std::vector<double> scores_;
};

}  // namespace peat::topology::testing
