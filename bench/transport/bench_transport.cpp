// bench_transport: simulated-network event throughput, bypass codec speed per mode, and the
// bypass datagram round trip on loopback next to a raw UDP round trip.
#include <benchmark/benchmark.h>

#include <boost/asio/ip/udp.hpp>

#include "peat/sim/sim_transport.hpp"
#include "peat/transport/bypass_codec.hpp"
#include "peat/transport/bypass_transport.hpp"
#include "runtime/asio.hpp"

namespace {

using namespace std::chrono_literals;
using namespace peat;
namespace bp = peat::transport::bypass;

// Raw packets through a lossy, jittery link: events (timers + deliveries) per second.
void BM_SimNetworkPackets(benchmark::State& state) {
  std::uint64_t events = 0;
  for (auto _ : state) {
    sim::SimLoop loop;
    sim::SimNetwork net(loop, 1);
    net.add_node("a");
    net.add_node("b");
    sim::LinkConfig link;
    link.delay = 5ms;
    link.jitter = 2ms;
    link.loss = 0.01;
    net.set_default_link(link);
    std::uint64_t got = 0;
    (void)net.bind({"b", 1}, [&](const sim::Packet&) { ++got; });
    Bytes payload(200, 1);
    for (int i = 0; i < 10000; ++i) {
      loop.call_after(std::chrono::microseconds(100 * i), [&] {
        net.send({"a", 1}, {"b", 1}, payload);
      });
    }
    loop.run_until_idle();
    events += loop.events_run();
    benchmark::DoNotOptimize(got);
  }
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimNetworkPackets)->Unit(benchmark::kMillisecond);

// Reliable messages over SimTransport (ARQ, acks, timers) on a 2 % loss link.
void BM_SimTransportMessages(benchmark::State& state) {
  std::uint64_t messages = 0, events = 0;
  for (auto _ : state) {
    sim::SimLoop loop;
    sim::SimNetwork net(loop, 2);
    net.add_node("a");
    net.add_node("b");
    sim::LinkConfig link;
    link.delay = 2ms;
    link.loss = 0.02;
    net.set_default_link(link);
    sim::SimTransport a(net, "a"), b(net, "b");
    std::uint64_t got = 0;
    transport::TransportEvents e;
    e.on_message = [&](const transport::PeerId&, transport::Channel, Bytes) { ++got; };
    b.set_events(e);
    (void)a.start();
    (void)b.start();
    a.connect("b", {});
    loop.run_until([&] { return a.is_connected("b"); }, 10s);
    Bytes payload(100, 2);
    for (int i = 0; i < 4000; ++i) (void)a.send("b", transport::Channel::kSync, payload);
    loop.run_until([&] { return got == 4000; }, 600s);
    messages += got;
    events += loop.events_run();
  }
  state.counters["msgs/s"] =
      benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate);
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimTransportMessages)->Unit(benchmark::kMillisecond);

struct Keys {
  Keys() {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(1);
    std::tie(pk, sk) = bp::keypair_from_seed(seed);
    id.fill(3);
    key.fill(4);
  }
  bp::PublicKey pk{};
  bp::SecretKey sk{};
  bp::SenderId id{};
  bp::SymmetricKey key{};
};

void BM_BypassEncode(benchmark::State& state) {
  Keys k;
  auto mode = static_cast<bp::Mode>(state.range(0));
  bp::Encoder enc(mode, {k.id, k.sk, k.key}, 1);
  Bytes payload(static_cast<std::size_t>(state.range(1)), 5);
  for (auto _ : state) {
    auto p = enc.encode(7, 5000, payload, 1'700'000'000'000ULL);
    benchmark::DoNotOptimize(p);
  }
  state.SetLabel(bp::to_string(mode));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(1));
}
BENCHMARK(BM_BypassEncode)->ArgsProduct({{0, 1, 2, 3}, {64, 1024}});

void BM_BypassDecode(benchmark::State& state) {
  Keys k;
  auto mode = static_cast<bp::Mode>(state.range(0));
  bp::Encoder enc(mode, {k.id, k.sk, k.key}, 1);
  bp::SecurityPolicy policy;
  policy.encryption_key = k.key;
  policy.peer_keys[k.id] = k.pk;
  policy.replay_protection = false;  // the same packet is decoded again and again
  bp::Decoder dec(policy);
  Bytes payload(static_cast<std::size_t>(state.range(1)), 5);
  Bytes packet = *enc.encode(7, 0, payload, 1'700'000'000'000ULL);
  for (auto _ : state) {
    auto m = dec.decode("127.0.0.1", packet, 1'700'000'000'000ULL);
    if (!m.ok()) state.SkipWithError(m.error().to_string().c_str());
    benchmark::DoNotOptimize(m);
  }
  state.SetLabel(bp::to_string(mode));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(1));
}
BENCHMARK(BM_BypassDecode)->ArgsProduct({{0, 1, 2, 3}, {64, 1024}});

// One datagram a → b, b echoes, a receives: through two BypassTransports on one IoLoop.
void BM_BypassRoundTrip(benchmark::State& state) {
  Keys k;
  auto mode = static_cast<bp::Mode>(state.range(0));
  runtime::IoLoop loop;
  auto config = [&] {
    transport::BypassTransportConfig c;
    c.bind_address = "127.0.0.1";
    c.port = 0;
    c.mode = mode;
    c.credentials = {k.id, k.sk, k.key};
    c.policy.encryption_key = k.key;
    c.policy.peer_keys[k.id] = k.pk;
    c.policy.replay_protection = false;  // both ends share one sender id in this benchmark
    return c;
  };
  transport::BypassTransport a(loop, config()), b(loop, config());
  (void)a.start();
  (void)b.start();
  a.connect("b", {{"127.0.0.1", b.local_port()}});
  b.connect("a", {{"127.0.0.1", a.local_port()}});
  std::uint64_t back = 0;
  transport::TransportEvents eb;
  eb.on_datagram = [&](const transport::PeerId&, Bytes d) { (void)b.send_datagram("a", d); };
  b.set_events(eb);
  transport::TransportEvents ea;
  ea.on_datagram = [&](const transport::PeerId&, Bytes) { ++back; };
  a.set_events(ea);
  loop.run_for(10ms);
  Bytes payload(64, 9);
  for (auto _ : state) {
    std::uint64_t want = back + 1;
    (void)a.send_datagram("b", payload);
    if (!loop.run_until([&] { return back >= want; }, 1s)) state.SkipWithError("lost");
  }
  state.SetLabel(bp::to_string(mode));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BypassRoundTrip)->Arg(0)->Arg(3)->Unit(benchmark::kMicrosecond);

// The same exchange on two plain blocking UDP sockets: the floor the bypass is compared with.
void BM_RawUdpRoundTrip(benchmark::State& state) {
  boost::asio::io_context io;
  using boost::asio::ip::udp;
  udp::socket a(io, udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  udp::socket b(io, udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  Bytes payload(76, 9), buffer(2048);
  udp::endpoint from;
  for (auto _ : state) {
    a.send_to(boost::asio::buffer(payload), b.local_endpoint());
    std::size_t n = b.receive_from(boost::asio::buffer(buffer), from);
    b.send_to(boost::asio::buffer(buffer.data(), n), from);
    n = a.receive_from(boost::asio::buffer(buffer), from);
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawUdpRoundTrip)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
