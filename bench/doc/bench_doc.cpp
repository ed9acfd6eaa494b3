// Micro benchmarks of the document engine and the sync protocol.
#include <benchmark/benchmark.h>

#include "peat/common/random.hpp"
#include "peat/doc/sync/sync.hpp"

namespace {

using peat::doc::ChangeHash;
using peat::doc::Document;
namespace sync = peat::doc::sync;

std::vector<ChangeHash> random_hashes(std::size_t n) {
  peat::SeededRng rng(7);
  std::vector<ChangeHash> out(n);
  for (auto& h : out) rng.fill(h);
  return out;
}

void BM_BloomBuild(benchmark::State& state) {
  const auto hashes = random_hashes(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(sync::BloomFilter::from_hashes(hashes).encode());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BloomBuild)->Arg(1000)->Arg(100000);

void BM_BloomContains(benchmark::State& state) {
  const auto hashes = random_hashes(10000);
  const auto filter = sync::BloomFilter::from_hashes(hashes);
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(filter.contains(hashes[i++ % hashes.size()]));
}
BENCHMARK(BM_BloomContains);

void BM_MessageDecode(benchmark::State& state) {
  sync::Message m;
  m.heads = random_hashes(4);
  m.have.push_back({random_hashes(2), sync::BloomFilter::from_hashes(random_hashes(10000))});
  m.changes.assign(100, peat::Bytes(200, 0x55));
  m.trailer = sync::Trailer{{sync::kCapabilityV2}, sync::kFlagSupportsSyncReset};
  const auto bytes = sync::encode_message(m);
  for (auto _ : state) benchmark::DoNotOptimize(sync::decode_message(bytes));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_MessageDecode);

Document make_doc(std::size_t changes) {
  Document d(peat::Bytes(16, 1));
  peat::doc::CommitOptions o;
  for (std::size_t i = 0; i < changes; ++i) {
    (void)d.put(peat::doc::kRoot, "k" + std::to_string(i % 50), static_cast<std::int64_t>(i));
    d.commit(o);
  }
  return d;
}

// A full sync session from a document with N changes to an empty peer.
void BM_SyncToEmptyPeer(benchmark::State& state) {
  Document full = make_doc(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    Document empty(peat::Bytes(16, 2));
    sync::State a, b;
    for (int round = 0; round < 10; ++round) {
      auto m1 = sync::generate_sync_message(full, a);
      if (m1) (void)sync::receive_sync_message(empty, b, *m1);
      auto m2 = sync::generate_sync_message(empty, b);
      if (m2) (void)sync::receive_sync_message(full, a, *m2);
      if (!m1 && !m2) break;
    }
    benchmark::DoNotOptimize(empty.get_heads());
  }
}
BENCHMARK(BM_SyncToEmptyPeer)->Arg(100)->Arg(5000)->Unit(benchmark::kMillisecond);

void BM_SpliceText(benchmark::State& state) {
  for (auto _ : state) {
    Document d(peat::Bytes(16, 3));
    auto text = d.put_object(peat::doc::kRoot, "t", peat::doc::ObjType::kText);
    for (std::size_t i = 0; i < 10000; ++i) (void)d.splice_text(*text, i / 2, 0, "x");
    d.commit();
    benchmark::DoNotOptimize(d.length(*text));
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_SpliceText)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
