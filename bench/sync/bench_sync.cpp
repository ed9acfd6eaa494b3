// Sync engine figures:
//  * Reconcile: 1,000,000 documents per side, 0.1% differing (500 changed, 250 only on each
//    side, i.e. 1,000 keys), with the engine's Reconciler and its frame limit: bytes on the wire
//    (frames included), round trips, next to sending every (id, timestamp) pair.
//  * Propagation: one change across 1, 3 and 5 hops of a simulated line (10 ms per link), in
//    virtual time (what a real network with that delay would see) and in wall time.
//  * Throughput: a peer catching up on N changes (FullHistory documents) over the simulator.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>

#include "peat/common/sha256.hpp"
#include "peat/sim/sim_loop.hpp"
#include "peat/sim/sim_network.hpp"
#include "peat/sim/sim_transport.hpp"
#include "peat/store/document_store.hpp"
#include "peat/sync/reconciler.hpp"
#include "peat/sync/sync_engine.hpp"
#include "peat/sync/wire.hpp"

namespace {

using namespace peat;
using namespace peat::sync;

ReconcileItem item(std::size_t i, int version) {
  std::string key = "tracks:" + std::to_string(i);
  std::string v = key + "|" + std::to_string(version);
  return {key, 1'000'000 + i, Sha256::digest(as_bytes(v))};
}

void BM_Reconcile1M(benchmark::State& state) {
  const std::size_t n = 1'000'000;
  const std::uint64_t limit = static_cast<std::uint64_t>(state.range(0));
  std::vector<ReconcileItem> a, b;
  a.reserve(n);
  b.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 2000 == 1) {
      a.push_back(item(i, 1));
      b.push_back(item(i, 2));  // changed on both sides
    } else if (i % 4000 == 3) {
      a.push_back(item(i, 1));  // only on a
    } else if (i % 4000 == 5) {
      b.push_back(item(i, 1));  // only on b
    } else {
      a.push_back(item(i, 1));
      b.push_back(item(i, 1));
    }
  }
  std::size_t wire = 0, rounds = 0, have = 0, need = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto ra = Reconciler::create(a, limit);
    auto rb = Reconciler::create(b, limit);
    state.ResumeTiming();
    wire = rounds = have = need = 0;
    auto frame_size = [](const Bytes& m) {
      return kFrameHeaderSize + kNegentropyKey.size() + m.size();
    };
    Bytes msg = *ra->initiate();
    std::vector<NegId> needs;
    for (int guard = 0; guard < 1000; ++guard) {
      wire += frame_size(msg);
      Bytes reply = *rb->respond(msg);
      wire += frame_size(reply);
      ++rounds;
      auto step = ra->on_reply(reply);
      have += step->have_keys.size();
      needs.insert(needs.end(), step->need_ids.begin(), step->need_ids.end());
      if (!step->next) break;
      msg = std::move(*step->next);
    }
    wire += kFrameHeaderSize + kNegentropyKey.size() + encode_need_list(needs).size();
    need = rb->keys_for(needs).size();
    benchmark::DoNotOptimize(need);
  }
  state.counters["wire_bytes"] = static_cast<double>(wire);
  state.counters["round_trips"] = static_cast<double>(rounds);
  state.counters["have_keys"] = static_cast<double>(have);
  state.counters["need_keys"] = static_cast<double>(need);
  state.counters["all_ids_bytes"] = static_cast<double>(a.size() * (kNegIdSize + 8));
}
BENCHMARK(BM_Reconcile1M)->Arg(60'000)->Arg(0)->Iterations(1)->Unit(benchmark::kMillisecond);

class TmpDir {
 public:
  TmpDir() {
    std::string t = (std::filesystem::temp_directory_path() / "peat-bsync-XXXXXX").string();
    path_ = mkdtemp(t.data());
  }
  ~TmpDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Node {
  TmpDir dir;
  std::unique_ptr<store::DocumentStore> store;
  std::unique_ptr<sim::SimTransport> transport;
  std::unique_ptr<SyncEngine> engine;
  std::uint64_t remote_changes = 0;  // documents changed by data from peers
};

struct Net {
  sim::SimLoop loop;
  sim::SimNetwork net{loop, 7};
  std::map<std::string, std::unique_ptr<Node>> nodes;
  ~Net() {
    for (auto& [n, node] : nodes) node->engine.reset();
  }
  Node& add(const std::string& name) {
    net.add_node(name);
    auto n = std::make_unique<Node>();
    store::DocStoreOptions opts;
    opts.env.durable = false;
    opts.env.map_size = std::size_t{256} << 20;
    doc::ActorId actor(16, 0);
    for (std::size_t i = 0; i < name.size() && i < 16; ++i)
      actor[i] = static_cast<std::uint8_t>(name[i]);
    auto opened = store::DocumentStore::open(n->dir.path(), actor, opts);
    n->store = std::move(*opened);
    n->transport = std::make_unique<sim::SimTransport>(net, name);
    SyncEngineConfig cfg;
    cfg.node_id = name;
    SyncEngineEvents ev;
    Node* np = n.get();
    ev.on_remote_change = [np](const std::string&, const PeerId&) { ++np->remote_changes; };
    n->engine = std::make_unique<SyncEngine>(loop, *n->transport, *n->store, cfg, ev);
    (void)n->engine->start();
    n->engine->attach_events();
    (void)n->transport->start();
    Node& ref = *n;
    nodes[name] = std::move(n);
    return ref;
  }
  void write(const std::string& node, const std::string& key, std::int64_t v) {
    Node& n = *nodes.at(node);
    auto got = n.store->get(key);
    doc::Document d = got->has_value() ? std::move(**got) : doc::Document(n.store->actor());
    (void)d.put(doc::kRoot, "v", v);
    d.commit();
    (void)n.store->put(key, d, loop.unix_millis());
  }
  std::vector<doc::ChangeHash> heads(const std::string& node, const std::string& key) {
    auto d = nodes.at(node)->store->get(key);
    if (!d.ok() || !d->has_value()) return {};
    return (*d)->get_heads();
  }
};

void BM_PropagationHops(benchmark::State& state) {
  const int hops = static_cast<int>(state.range(0));
  Net net;
  sim::LinkConfig link;
  link.delay = std::chrono::milliseconds(10);
  net.net.set_default_link(link);
  std::vector<std::string> line;
  for (int i = 0; i <= hops; ++i) {
    line.push_back("h" + std::to_string(i));
    net.add(line.back());
  }
  for (int i = 0; i < hops; ++i) {
    net.nodes[line[static_cast<std::size_t>(i)]]->engine->add_peer(
        line[static_cast<std::size_t>(i) + 1]);
  }
  net.loop.run_for(std::chrono::seconds(1));
  std::int64_t v = 0;
  // The predicate runs after every event: compare documents only when the last node changed.
  Node& last = *net.nodes[line.back()];
  std::uint64_t seen = 0;
  auto arrived = [&] {
    if (last.remote_changes == seen) return false;
    seen = last.remote_changes;
    return net.heads("h0", "notes:x") == net.heads(line.back(), "notes:x");
  };
  net.write("h0", "notes:x", ++v);  // warm-up: sessions learn each other's heads
  net.loop.run_until(arrived, std::chrono::seconds(10));
  double virt_ms = 0;
  for (auto _ : state) {
    state.PauseTiming();
    net.loop.run_for(std::chrono::milliseconds(100));
    state.ResumeTiming();
    Instant t0 = net.loop.now();
    net.write("h0", "notes:x", ++v);
    net.loop.run_until(arrived, std::chrono::seconds(10));
    virt_ms = std::chrono::duration<double, std::milli>(net.loop.now() - t0).count();
  }
  state.counters["virtual_ms"] = virt_ms;
  state.counters["link_delay_ms"] = 10;
}
BENCHMARK(BM_PropagationHops)
    ->Arg(1)
    ->Arg(3)
    ->Arg(5)
    ->Iterations(50)
    ->Unit(benchmark::kMicrosecond);

void BM_CatchUpThroughput(benchmark::State& state) {
  const int docs = 100;
  const int changes_per_doc = static_cast<int>(state.range(0));
  std::size_t changes = 0;
  std::unique_ptr<Net> net;
  for (auto _ : state) {
    state.PauseTiming();
    net.reset();
    net = std::make_unique<Net>();
    net->add("a");
    net->add("b");
    std::vector<std::string> keys;
    for (int d = 0; d < docs; ++d) {
      keys.push_back("notes:" + std::to_string(d));
      for (int c = 0; c < changes_per_doc; ++c) net->write("a", keys.back(), c);
    }
    changes = static_cast<std::size_t>(docs * changes_per_doc);
    state.ResumeTiming();
    net->nodes["a"]->engine->add_peer("b");
    // Compare the documents only once b has seen every document change at least once, and
    // then only after further changes.
    Node& b = *net->nodes["b"];
    std::uint64_t seen = 0;
    net->loop.run_until(
        [&] {
          if (b.remote_changes < keys.size() || b.remote_changes == seen) return false;
          seen = b.remote_changes;
          for (const auto& k : keys) {
            if (net->heads("a", k) != net->heads("b", k)) return false;
          }
          return true;
        },
        std::chrono::seconds(60), 5'000'000);
  }
  net.reset();
  state.counters["changes"] = static_cast<double>(changes);
  state.counters["changes_per_s"] =
      benchmark::Counter(static_cast<double>(changes) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CatchUpThroughput)->Arg(10)->Arg(50)->Iterations(2)->Unit(benchmark::kMillisecond);

// Reports flowing up a 3-level tree (1 root, 4 mids, 16 leaves; links only along the tree):
// every leaf writes 20 UpOnly contact_reports. Arg 0: no topology view (flat mesh, every report
// floods every node); Arg 1: set_topology on every node (reports go to the parent only).
// Counters: bytes all engines sent until the root holds every report, and how many stored
// copies of the reports exist (320 reports: 3 copies each when routed, 21 when flooded).
void BM_TreeUpOnlyTraffic(benchmark::State& state) {
  const bool routed = state.range(0) != 0;
  std::uint64_t bytes = 0;
  std::size_t copies = 0;
  double virt_ms = 0;
  for (auto _ : state) {
    Net net;
    sim::LinkConfig link;
    link.delay = std::chrono::milliseconds(5);
    net.net.set_default_link(link);
    net.add("root");
    std::vector<std::string> leaves;
    std::map<std::string, SyncTopology> topo;
    topo["root"] = {};
    for (int m = 0; m < 4; ++m) {
      std::string mid = "m" + std::to_string(m);
      net.add(mid);
      topo["root"].children.insert(mid);
      topo[mid].parent = "root";
      net.nodes["root"]->engine->add_peer(mid);
      for (int l = 0; l < 4; ++l) {
        std::string leaf = mid + "l" + std::to_string(l);
        net.add(leaf);
        leaves.push_back(leaf);
        topo[mid].children.insert(leaf);
        topo[leaf].parent = mid;
        net.nodes[mid]->engine->add_peer(leaf);
      }
    }
    if (routed) {
      for (auto& [name, t] : topo) net.nodes[name]->engine->set_topology(t);
    }
    net.loop.run_for(std::chrono::seconds(1));
    std::vector<std::string> keys;
    for (const auto& leaf : leaves) {
      for (int i = 0; i < 20; ++i) {
        keys.push_back("contact_reports:" + leaf + "-" + std::to_string(i));
        net.write(leaf, keys.back(), i);
      }
    }
    Instant t0 = net.loop.now();
    Node& root = *net.nodes["root"];
    net.loop.run_until([&] { return root.remote_changes >= keys.size(); }, std::chrono::seconds(60),
                       10'000'000);
    virt_ms = std::chrono::duration<double, std::milli>(net.loop.now() - t0).count();
    net.loop.run_for(std::chrono::seconds(2));  // let the flood (if any) finish
    bytes = 0;
    copies = 0;
    for (auto& [name, node] : net.nodes) {
      for (const auto& peer : node->engine->peers()) bytes += node->engine->stats(peer).bytes_sent;
      for (const auto& k : keys) {
        auto d = node->store->base().meta(k);
        if (d.ok() && d->has_value()) ++copies;
      }
    }
  }
  state.counters["bytes_sent"] = static_cast<double>(bytes);
  state.counters["stored_copies"] = static_cast<double>(copies);
  state.counters["virtual_ms_to_root"] = virt_ms;
}
BENCHMARK(BM_TreeUpOnlyTraffic)->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
