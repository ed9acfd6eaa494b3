// bench_topology: how fast a statically configured mesh on the simulated network gets from
// start to (1) every node connected to every other ("discovery to connected") and (2) one agreed
// leader per group plus one top leader ("hierarchy converged"), in virtual time, and how much
// wall time simulating that takes. 2 ms links with 1 ms jitter and 1 % loss; groups of 5.
#include <benchmark/benchmark.h>

#include <chrono>

#include "topology/sim_mesh.hpp"

using namespace std::chrono_literals;
using peat::topology::testing::SimMesh;
using peat::topology::testing::SimMeshOptions;

namespace {

double seconds(peat::Duration d) {
  return std::chrono::duration<double>(d).count();
}

void BM_MeshFormation(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  double connected_s = 0, converged_s = 0, events = 0, ok = 1;
  std::uint64_t seed = 1;
  for (auto _ : state) {
    SimMeshOptions o;
    o.nodes = n;
    o.groups = n / 5;
    o.seed = seed++;
    o.link.delay = 2ms;
    o.link.jitter = 1ms;
    o.link.loss = 0.01;
    SimMesh m(o);
    const auto start = m.loop.now();
    m.start();
    const auto all = m.all();
    ok *= m.run_until([&] { return m.all_connected(all); }, 120s) ? 1 : 0;
    connected_s += seconds(m.loop.now() - start);
    ok *= m.run_until([&] { return m.converged(); }, 120s) ? 1 : 0;
    converged_s += seconds(m.loop.now() - start);
    events += static_cast<double>(m.loop.events_run());
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["connected_virtual_s"] = connected_s / iters;
  state.counters["converged_virtual_s"] = converged_s / iters;
  state.counters["sim_events"] = events / iters;
  state.counters["all_converged"] = ok;
}

// Split the formed mesh in two halves: time until every node declared the partition, then heal
// and time until one leader per group and one top leader again.
void BM_PartitionHeal(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  double detect_s = 0, heal_s = 0, ok = 1;
  std::uint64_t seed = 100;
  for (auto _ : state) {
    SimMeshOptions o;
    o.nodes = n;
    o.groups = n / 5;
    o.seed = seed++;
    o.link.delay = 2ms;
    o.link.jitter = 1ms;
    o.link.loss = 0.01;
    SimMesh m(o);
    m.start();
    ok *= m.run_until([&] { return m.converged(); }, 120s) ? 1 : 0;
    std::vector<std::string> a(m.ids.begin(), m.ids.begin() + static_cast<long>(n / 2));
    std::vector<std::string> b(m.ids.begin() + static_cast<long>(n / 2), m.ids.end());
    auto t = m.loop.now();
    m.net.partition({a, b});
    ok *= m.run_until(
              [&] {
                for (const auto& node : m.nodes) {
                  if (!node->membership().is_partitioned()) return false;
                }
                return true;
              },
              120s)
              ? 1
              : 0;
    detect_s += seconds(m.loop.now() - t);
    t = m.loop.now();
    m.net.heal();
    ok *= m.run_until([&] { return m.converged(); }, 120s) ? 1 : 0;
    heal_s += seconds(m.loop.now() - t);
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["partition_detect_virtual_s"] = detect_s / iters;
  state.counters["heal_reconverge_virtual_s"] = heal_s / iters;
  state.counters["all_ok"] = ok;
}

BENCHMARK(BM_MeshFormation)
    ->Arg(10)
    ->Arg(50)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(BM_PartitionHeal)
    ->Arg(10)
    ->Arg(50)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
