// A simulated mesh of nodes, each with its own LMDB DocumentStore, SimTransport and SyncEngine,
// all on one SimLoop (virtual time, seeded).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "peat/doc/document.hpp"
#include "peat/sim/sim_loop.hpp"
#include "peat/sim/sim_network.hpp"
#include "peat/sim/sim_transport.hpp"
#include "peat/store/document_store.hpp"
#include "peat/sync/sync_engine.hpp"

namespace peat::sync::test {

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "peat-sync-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct MeshNode {
  std::string name;
  std::unique_ptr<store::DocumentStore> store;
  std::unique_ptr<sim::SimTransport> transport;
  std::unique_ptr<SyncEngine> engine;
  std::vector<std::string> links;
  std::vector<Error> errors;
};

class Mesh {
 public:
  explicit Mesh(std::uint64_t seed, SyncEngineConfig base = {},
                sim::SimTransportConfig transport = {})
      : net_(loop_, seed), base_(base), transport_config_(transport) {}
  ~Mesh() {
    for (auto& [n, node] : nodes_) node.engine.reset();
  }

  sim::SimLoop& loop() { return loop_; }
  sim::SimNetwork& net() { return net_; }
  MeshNode& node(const std::string& n) { return nodes_.at(n); }
  std::map<std::string, MeshNode>& nodes() { return nodes_; }

  void add(const std::string& name) {
    net_.add_node(name);
    MeshNode& n = nodes_[name];
    n.name = name;
    open(n);
  }

  // Applied to every node's store when it opens (before its engine starts), e.g. policies.
  void set_store_setup(std::function<void(store::DocumentStore&)> fn) {
    store_setup_ = std::move(fn);
  }
  // The node's engine gets this topology view now and after every restart.
  void set_topology(const std::string& name, SyncTopology t) {
    topologies_[name] = t;
    nodes_.at(name).engine->set_topology(std::move(t));
  }

  // Both sides keep the link dialled.
  void link(const std::string& a, const std::string& b) {
    nodes_.at(a).links.push_back(b);
    nodes_.at(b).links.push_back(a);
    nodes_.at(a).engine->add_peer(b);
    nodes_.at(b).engine->add_peer(a);
  }

  void crash(const std::string& name) {
    net_.crash(name);
    MeshNode& n = nodes_.at(name);
    n.engine.reset();
    n.transport.reset();
    n.store.reset();
  }
  void restart(const std::string& name) {
    net_.restart(name);
    MeshNode& n = nodes_.at(name);
    open(n);
    for (const auto& l : n.links) n.engine->add_peer(l);
  }

  // Swaps the node's engine for one with this config (node_id as given) and events.
  void replace_engine(const std::string& name, SyncEngineConfig cfg, SyncEngineEvents ev = {}) {
    MeshNode& n = nodes_.at(name);
    n.engine.reset();
    MeshNode* np = &n;
    if (!ev.on_error)
      ev.on_error = [np](const PeerId&, const Error& e) { np->errors.push_back(e); };
    n.engine = std::make_unique<SyncEngine>(loop_, *n.transport, *n.store, cfg, ev);
    ASSERT_TRUE(n.engine->start().ok());
    if (auto t = topologies_.find(name); t != topologies_.end()) n.engine->set_topology(t->second);
    n.engine->attach_events();
  }

  static doc::ActorId actor_for(const std::string& name) {
    doc::ActorId a(16, 0);
    for (std::size_t i = 0; i < name.size() && i < 16; ++i) {
      a[i] = static_cast<std::uint8_t>(name[i]);
    }
    a[15] = 0x5A;
    return a;
  }

  // Sets root[field] = value in the node's copy of `key` (creating it).
  void write(const std::string& node, const std::string& key, const std::string& field,
             std::int64_t value) {
    MeshNode& n = nodes_.at(node);
    auto got = n.store->get(key);
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    doc::Document d = got->has_value() ? std::move(**got) : doc::Document(n.store->actor());
    ASSERT_TRUE(d.put(doc::kRoot, field, value).ok());
    d.commit();
    Status st = n.store->put(key, d, loop_.unix_millis());
    ASSERT_TRUE(st.ok()) << st.error().to_string();
  }

  // JSON of the document at every node ("<absent>" when missing).
  std::string json_at(const std::string& node, const std::string& key) {
    auto d = nodes_.at(node).store->get(key);
    if (!d.ok()) return "<error " + d.error().to_string() + ">";
    if (!d->has_value()) return "<absent>";
    return doc::to_json(**d);
  }
  std::vector<doc::ChangeHash> heads_at(const std::string& node, const std::string& key) {
    auto d = nodes_.at(node).store->get(key);
    if (!d.ok() || !d->has_value()) return {};
    return (*d)->get_heads();
  }

  // Every live node holds the same state of every key.
  bool converged(const std::vector<std::string>& keys) {
    for (const auto& key : keys) {
      std::optional<std::vector<doc::ChangeHash>> first;
      for (auto& [name, n] : nodes_) {
        if (!n.store) continue;
        auto h = heads_at(name, key);
        if (!first) {
          first = h;
        } else if (*first != h) {
          return false;
        }
      }
    }
    return true;
  }

  bool run_until_converged(const std::vector<std::string>& keys, Duration limit) {
    // Checking after every event is costly with many nodes: check every 50 ms of virtual time.
    Instant deadline = loop_.now() + limit;
    while (loop_.now() < deadline) {
      loop_.run_for(std::chrono::milliseconds(50));
      if (converged(keys)) return true;
    }
    return converged(keys);
  }

 private:
  void open(MeshNode& n) {
    if (dirs_.find(n.name) == dirs_.end()) dirs_[n.name] = std::make_unique<ScratchDir>();
    store::DocStoreOptions opts;
    opts.env.durable = false;
    opts.env.map_size = std::size_t{64} << 20;
    auto s = store::DocumentStore::open(dirs_[n.name]->path(), actor_for(n.name), opts);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    n.store = std::move(*s);
    if (store_setup_) store_setup_(*n.store);
    n.transport = std::make_unique<sim::SimTransport>(net_, n.name, transport_config_);
    SyncEngineConfig cfg = base_;
    cfg.node_id = n.name;
    SyncEngineEvents ev;
    MeshNode* np = &n;
    ev.on_error = [np](const PeerId&, const Error& e) { np->errors.push_back(e); };
    n.engine = std::make_unique<SyncEngine>(loop_, *n.transport, *n.store, cfg, ev);
    ASSERT_TRUE(n.engine->start().ok());
    if (auto t = topologies_.find(n.name); t != topologies_.end())
      n.engine->set_topology(t->second);
    n.engine->attach_events();
    ASSERT_TRUE(n.transport->start().ok());
  }

  sim::SimLoop loop_;
  sim::SimNetwork net_;
  SyncEngineConfig base_;
  sim::SimTransportConfig transport_config_;
  std::map<std::string, std::unique_ptr<ScratchDir>> dirs_;
  std::map<std::string, MeshNode> nodes_;
  std::function<void(store::DocumentStore&)> store_setup_;
  std::map<std::string, SyncTopology> topologies_;
};

}  // namespace peat::sync::test
