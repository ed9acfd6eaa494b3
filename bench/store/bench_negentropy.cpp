// Negentropy on 1,000,000 items with 0.1% differing (500 only on each side): bytes on the wire and
// round trips, next to the naive exchange of every id.
#include <benchmark/benchmark.h>

#include "peat/common/random.hpp"
#include "peat/sync/negentropy.hpp"

namespace {

using peat::Bytes;
using peat::sync::NegId;
using peat::sync::NegItem;
using peat::sync::NegVector;

struct Fixture {
  NegVector a;
  NegVector b;
  std::size_t only_a = 0;
  std::size_t only_b = 0;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    constexpr std::size_t kTotal = 1'000'000;
    constexpr std::size_t kDiffer = kTotal / 1000;  // 0.1%
    peat::SeededRng rng(42);
    std::vector<NegItem> a;
    std::vector<NegItem> b;
    a.reserve(kTotal);
    b.reserve(kTotal);
    for (std::size_t i = 0; i < kTotal - kDiffer / 2; ++i) {
      NegItem it;
      it.timestamp = 1'700'000'000 + rng.uniform(86'400);
      rng.fill(it.id);
      a.push_back(it);
      b.push_back(it);
    }
    for (std::size_t i = 0; i < kDiffer / 2; ++i) {
      NegItem x;
      x.timestamp = 1'700'000'000 + rng.uniform(86'400);
      rng.fill(x.id);
      a.push_back(x);
      NegItem y;
      y.timestamp = 1'700'000'000 + rng.uniform(86'400);
      rng.fill(y.id);
      b.push_back(y);
    }
    Fixture out{std::move(NegVector::build(std::move(a)).value()),
                std::move(NegVector::build(std::move(b)).value()), kDiffer / 2, kDiffer / 2};
    return out;
  }();
  return f;
}

void reconcile(benchmark::State& state, std::uint64_t frame_limit) {
  const Fixture& f = fixture();
  std::size_t up = 0;
  std::size_t down = 0;
  std::size_t rounds = 0;
  std::size_t have = 0;
  std::size_t need = 0;
  for (auto _ : state) {
    up = down = rounds = have = need = 0;
    auto init = peat::sync::Negentropy::create(f.a, frame_limit);
    auto resp = peat::sync::Negentropy::create(f.b, frame_limit);
    Bytes msg = init->initiate().value();
    std::vector<NegId> h;
    std::vector<NegId> n;
    while (rounds < 1000) {
      up += msg.size();
      Bytes reply = resp->respond(msg).value();
      down += reply.size();
      ++rounds;
      auto next = init->reconcile(reply, h, n).value();
      if (!next) break;
      msg = std::move(*next);
    }
    have = h.size();
    need = n.size();
    benchmark::DoNotOptimize(h.data());
  }
  if (have != f.only_a || need != f.only_b) state.SkipWithError("wrong have/need");
  state.counters["bytes_up"] = static_cast<double>(up);
  state.counters["bytes_down"] = static_cast<double>(down);
  state.counters["bytes_total"] = static_cast<double>(up + down);
  state.counters["round_trips"] = static_cast<double>(rounds);
  state.counters["have"] = static_cast<double>(have);
  state.counters["need"] = static_cast<double>(need);
  // Naive: A sends all its ids (32 B each), B answers with the ids A lacks.
  double naive = 32.0 * static_cast<double>(f.a.size()) + 32.0 * static_cast<double>(f.only_b);
  state.counters["naive_bytes"] = naive;
  state.counters["saving_x"] = naive / static_cast<double>(up + down);
}

void BM_Negentropy1M_Unlimited(benchmark::State& state) {
  reconcile(state, 0);
}
void BM_Negentropy1M_Frame64KiB(benchmark::State& state) {
  reconcile(state, 64 * 1024);
}

}  // namespace

BENCHMARK(BM_Negentropy1M_Unlimited)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_Negentropy1M_Frame64KiB)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_MAIN();
