// LMDB layer throughput: durable puts of 1 KiB values (one commit per put, and 1000 per commit),
// point gets in one read transaction.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "peat/store/lmdb_env.hpp"
#ifdef PEAT_BENCH_DOCUMENTS
#include "peat/store/document_store.hpp"
#endif

namespace {

using peat::store::Env;
using peat::store::Txn;

std::string bench_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("peat-bench-" + name);
  std::filesystem::remove_all(p);
  return p.string();
}

void BM_LmdbPutOneCommitEach(benchmark::State& state) {
  std::string dir = bench_dir("put1");
  auto env = std::move(Env::open(dir).value());
  auto db = env->open_db("docs").value();
  std::string value(1024, 'v');
  std::size_t i = 0;
  for (auto _ : state) {
    std::string key = "beacons:doc-" + std::to_string(i++);
    (void)env->write([&](Txn& t) { return t.put(db, peat::as_bytes(key), peat::as_bytes(value)); });
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(i));
  env.reset();
  std::filesystem::remove_all(dir);
}

void BM_LmdbPutBatched1000(benchmark::State& state) {
  std::string dir = bench_dir("put1000");
  auto env = std::move(Env::open(dir).value());
  auto db = env->open_db("docs").value();
  std::string value(1024, 'v');
  std::size_t i = 0;
  for (auto _ : state) {
    (void)env->write([&](Txn& t) -> peat::Status {
      for (int k = 0; k < 1000; ++k) {
        std::string key = "beacons:doc-" + std::to_string(i++);
        PEAT_TRY_STATUS(t.put(db, peat::as_bytes(key), peat::as_bytes(value)));
      }
      return {};
    });
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(i));
  env.reset();
  std::filesystem::remove_all(dir);
}

void BM_LmdbGet(benchmark::State& state) {
  std::string dir = bench_dir("get");
  auto env = std::move(Env::open(dir).value());
  auto db = env->open_db("docs").value();
  std::string value(1024, 'v');
  constexpr int kDocs = 100'000;
  (void)env->write([&](Txn& t) -> peat::Status {
    for (int k = 0; k < kDocs; ++k) {
      std::string key = "beacons:doc-" + std::to_string(k);
      PEAT_TRY_STATUS(t.put(db, peat::as_bytes(key), peat::as_bytes(value)));
    }
    return {};
  });
  std::size_t i = 0;
  std::size_t found = 0;
  (void)env->read([&](const Txn& t) -> peat::Status {
    for (auto _ : state) {
      std::string key = "beacons:doc-" + std::to_string((i++ * 7919) % kDocs);
      auto v = t.get(db, peat::as_bytes(key));
      if (v.ok() && v->has_value()) ++found;
    }
    return {};
  });
  if (found != i) state.SkipWithError("missing keys");
  state.SetItemsProcessed(static_cast<std::int64_t>(i));
  env.reset();
  std::filesystem::remove_all(dir);
}

#ifdef PEAT_BENCH_DOCUMENTS
// Documents through DocumentStore: a new small document per put (snapshot write), an edit to an
// existing document per put (incremental append), and get (load from snapshot + tail).
peat::doc::ActorId bench_actor() {
  return peat::doc::ActorId(16, 0x42);
}

void BM_DocumentPutNew(benchmark::State& state) {
  std::string dir = bench_dir("docnew");
  auto store = std::move(peat::store::DocumentStore::open(dir, bench_actor()).value());
  std::size_t i = 0;
  for (auto _ : state) {
    nlohmann::json j = {{"callsign", "unit-" + std::to_string(i)},
                        {"lat", 35.3 + 0.001 * static_cast<double>(i % 100)},
                        {"lon", -120.66},
                        {"speed", static_cast<std::int64_t>(i % 80)}};
    (void)store->put_json("tracks:t" + std::to_string(i), j, 1'700'000'000'000 + i);
    ++i;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(i));
  store.reset();
  std::filesystem::remove_all(dir);
}

void BM_DocumentPutEdit(benchmark::State& state) {
  std::string dir = bench_dir("docedit");
  peat::store::DocStoreOptions options;
  options.env.durable = state.range(0) != 0;
  auto store = std::move(peat::store::DocumentStore::open(dir, bench_actor(), options).value());
  peat::doc::Document d(bench_actor());
  (void)d.put(peat::doc::kRoot, "payload", std::string(4096, 'p'));
  (void)store->put("tracks:hot", d, 1);
  std::int64_t i = 0;
  for (auto _ : state) {
    (void)d.put(peat::doc::kRoot, "speed", i++);
    (void)store->put("tracks:hot", d, 1'700'000'000'000 + static_cast<std::uint64_t>(i));
  }
  state.SetItemsProcessed(i);
  state.counters["stored_bytes"] = static_cast<double>(store->stored_size("tracks:hot").value());
  store.reset();
  std::filesystem::remove_all(dir);
}

// 1000 new documents per transaction (what a sync round delivering many documents does).
void BM_DocumentPutMany1000(benchmark::State& state) {
  std::string dir = bench_dir("docmany");
  auto store = std::move(peat::store::DocumentStore::open(dir, bench_actor()).value());
  std::size_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<peat::doc::Document> docs;
    docs.reserve(1000);
    std::vector<std::pair<std::string, peat::doc::Document*>> batch;
    for (int k = 0; k < 1000; ++k) {
      docs.emplace_back(bench_actor());
      (void)docs.back().put(peat::doc::kRoot, "callsign", "unit-" + std::to_string(n + k));
      (void)docs.back().put(peat::doc::kRoot, "speed", std::int64_t{k});
    }
    for (int k = 0; k < 1000; ++k) batch.emplace_back("tracks:t" + std::to_string(n + k), &docs[k]);
    state.ResumeTiming();
    auto r = store->put_many(batch, 1'700'000'000'000);
    if (!r.ok()) state.SkipWithError("put_many failed");
    n += 1000;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
  store.reset();
  std::filesystem::remove_all(dir);
}

void BM_DocumentGet(benchmark::State& state) {
  std::string dir = bench_dir("docget");
  auto store = std::move(peat::store::DocumentStore::open(dir, bench_actor()).value());
  constexpr int kDocs = 1000;
  for (int k = 0; k < kDocs; ++k) {
    nlohmann::json j = {{"callsign", "unit-" + std::to_string(k)}, {"lat", 35.3}, {"lon", -120.6}};
    (void)store->put_json("tracks:t" + std::to_string(k), j, 1);
  }
  std::size_t i = 0;
  std::size_t found = 0;
  for (auto _ : state) {
    auto d = store->get("tracks:t" + std::to_string((i++ * 7919) % kDocs));
    if (d.ok() && d->has_value()) ++found;
  }
  if (found != i) state.SkipWithError("missing documents");
  state.SetItemsProcessed(static_cast<std::int64_t>(i));
  store.reset();
  std::filesystem::remove_all(dir);
}
#endif

}  // namespace

#ifdef PEAT_BENCH_DOCUMENTS
BENCHMARK(BM_DocumentPutNew)->Iterations(300)->UseRealTime();
// Arg 1: durable (fsync per commit); arg 0: MDB_NOSYNC, which shows the CPU cost.
BENCHMARK(BM_DocumentPutEdit)->Arg(1)->Iterations(300)->UseRealTime();
BENCHMARK(BM_DocumentPutEdit)->Arg(0)->Iterations(300)->UseRealTime();
BENCHMARK(BM_DocumentPutEdit)->Arg(0)->Iterations(3000)->UseRealTime();
BENCHMARK(BM_DocumentPutMany1000)->Iterations(5)->UseRealTime();
BENCHMARK(BM_DocumentGet);
#endif
BENCHMARK(BM_LmdbPutOneCommitEach)->Iterations(500)->UseRealTime();
BENCHMARK(BM_LmdbPutBatched1000)->Iterations(50)->UseRealTime();
BENCHMARK(BM_LmdbGet);
BENCHMARK_MAIN();
