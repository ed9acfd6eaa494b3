// LMDB layer throughput: durable puts of 1 KiB values (one commit per put, and 1000 per commit),
// point gets in one read transaction.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "peat/store/lmdb_env.hpp"

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

}  // namespace

BENCHMARK(BM_LmdbPutOneCommitEach)->Iterations(500)->UseRealTime();
BENCHMARK(BM_LmdbPutBatched1000)->Iterations(50)->UseRealTime();
BENCHMARK(BM_LmdbGet);
BENCHMARK_MAIN();
