// bench_blob: one blob over real QUIC on 127.0.0.1 between two nodes in this process (one IoLoop
// thread), interrupted by the server closing the connection part-way, then resumed from the
// receiver's checkpoint and verified; then raw QuicTransport single-stream throughput (ordered
// messages on Channel::kBlobs) in the same run. Peak RSS (VmHWM) is printed after each phase so
// it can be compared across blob sizes.
//
//   bench_blob [--size-mib 1024] [--chunk-kib 1024] [--window 16] [--raw-mib 256]
//              [--interrupt-at 0.5] [--checkpoint-ms 1000] [--dir /tmp]
#include <sodium.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "peat/blob/blob_service.hpp"
#include "peat/common/random.hpp"
#include "peat/runtime/io_loop.hpp"
#include "peat/transport/quic/quic_transport.hpp"

namespace {

using namespace peat;
using namespace std::chrono_literals;
using blob::BlobService;
using blob::BlobStore;
using transport::quic::QuicTransport;
using Clock = std::chrono::steady_clock;

struct Options {
  std::uint64_t size_mib = 1024;
  std::size_t chunk_kib = 1024;
  std::uint32_t window = 16;
  std::uint64_t raw_mib = 256;
  double interrupt_at = 0.5;
  int checkpoint_ms = 1000;
  std::string dir = "/tmp";
};

long vm_hwm_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
// CPU time (user + system) of the whole process: on a shared, loaded machine wall-clock
// throughput depends on the neighbours, CPU cost per byte does not.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

double mib(std::uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

transport::quic::Identity make_identity(std::uint8_t tag) {
  transport::quic::Identity id;
  id.seed.fill(tag);
  std::array<std::uint8_t, 64> secret{};
  crypto_sign_seed_keypair(id.public_key.data(), secret.data(), id.seed.data());
  return id;
}

struct Node {
  SeededRng rng;
  std::optional<BlobStore> store;
  std::unique_ptr<QuicTransport> transport;
  std::unique_ptr<BlobService> service;
  Node(runtime::IoLoop& loop, std::uint8_t tag, const std::filesystem::path& dir, const Options& o)
      : rng(tag) {
    store.emplace(BlobStore::open(dir).value());
    transport::quic::QuicTransportConfig config;
    config.identity = make_identity(tag);
    config.bind_host = "127.0.0.1";
    transport = std::make_unique<QuicTransport>(loop, std::move(config), rng);
    blob::BlobServiceConfig bc;
    bc.profile = {o.chunk_kib * 1024, std::chrono::milliseconds(o.checkpoint_ms)};
    bc.window = o.window;
    service = std::make_unique<BlobService>(loop, *transport, *store, bc);
    transport->set_events(service->transport_events());
    if (!transport->start().ok()) std::abort();
  }
  ~Node() { transport->set_events({}); }
  std::vector<transport::PeerAddress> address() const {
    return {{"127.0.0.1", *transport->local_port()}};
  }
};

int run(const Options& o) {
  if (sodium_init() < 0) return 1;
  const std::uint64_t size = o.size_mib * 1024 * 1024;
  std::random_device rd;
  const auto root = std::filesystem::path(o.dir) / ("peat-bench-blob-" + std::to_string(rd()));
  std::filesystem::create_directories(root);
  std::printf("blob %llu MiB, chunk %zu KiB, window %u, interrupt at %.0f%%, checkpoint %d ms\n",
              static_cast<unsigned long long>(o.size_mib), o.chunk_kib, o.window,
              o.interrupt_at * 100, o.checkpoint_ms);
  std::printf("VmHWM at start:                 %7ld KiB\n", vm_hwm_kib());

  runtime::IoLoop loop;
  Node a(loop, 1, root / "a", o);
  Node b(loop, 2, root / "b", o);

  auto t0 = Clock::now();
  SeededRng gen(99);
  std::uint64_t produced = 0;
  auto token = a.store->put_stream(
      [&](std::span<std::uint8_t> out) -> Result<std::size_t> {
        std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size - produced));
        gen.fill(out.first(n));
        produced += n;
        return n;
      },
      {}, 1024 * 1024);
  if (!token.ok()) {
    std::fprintf(stderr, "put_stream: %s\n", token.error().to_string().c_str());
    return 1;
  }
  std::printf("import into the store:         %7.2f s\n", seconds_since(t0));

  auto connect = [&] {
    b.transport->connect(a.transport->local_peer_id(), a.address());
    return loop.run_until(
        [&] {
          return b.transport->is_connected(a.transport->local_peer_id()) &&
                 a.transport->is_connected(b.transport->local_peer_id());
        },
        30s);
  };
  if (!connect()) return 1;
  std::printf("VmHWM before transfer:         %7ld KiB\n", vm_hwm_kib());

  // Leg 1: until the interruption.
  const auto& server = a.transport->local_peer_id();
  std::optional<Result<blob::BlobToken>> r1;
  std::uint64_t done1 = 0;
  blob::FetchOptions f1;
  f1.on_progress = [&](const blob::TransferEvent& e) { done1 = e.bytes_done; };
  auto t1 = Clock::now();
  const double c1 = cpu_seconds();
  if (!b.service
           ->fetch(
               server, token->hash, [&](Result<blob::BlobToken> r) { r1 = r; }, f1)
           .ok()) {
    return 1;
  }
  const auto cut = static_cast<std::uint64_t>(static_cast<double>(size) * o.interrupt_at);
  if (!loop.run_until([&] { return done1 >= cut || r1.has_value(); }, 600s)) return 1;
  a.transport->disconnect(b.transport->local_peer_id());
  if (!loop.run_until([&] { return r1.has_value(); }, 30s)) return 1;
  const double leg1 = seconds_since(t1);
  const double cpu1 = cpu_seconds() - c1;
  const std::uint64_t held = b.service->stats().chunk_bytes_received;
  std::printf("leg 1: %8.1f MiB in %6.2f s = %7.1f MiB/s (%.2f CPU s), ended by: %s\n", mib(held),
              leg1, mib(held) / leg1, cpu1,
              r1->ok() ? "completed (no interruption)" : r1->error().code.c_str());
  std::printf("VmHWM after leg 1:             %7ld KiB\n", vm_hwm_kib());

  // Leg 2: reconnect and resume.
  loop.run_until([&] { return !b.transport->is_connected(server); }, 30s);
  if (!connect()) return 1;
  std::optional<Result<blob::BlobToken>> r2;
  std::uint64_t resumed_at = 0;
  blob::FetchOptions f2;
  f2.on_progress = [&](const blob::TransferEvent& e) {
    if (e.kind == blob::TransferEventKind::kStarted) resumed_at = e.bytes_done;
  };
  const std::uint64_t sent_mark = a.service->stats().chunk_bytes_sent;
  auto t2 = Clock::now();
  const double c2 = cpu_seconds();
  if (!b.service
           ->fetch(
               server, token->hash, [&](Result<blob::BlobToken> r) { r2 = r; }, f2)
           .ok()) {
    return 1;
  }
  if (!loop.run_until([&] { return r2.has_value(); }, 1200s)) return 1;
  const double leg2 = seconds_since(t2);
  const double cpu2 = cpu_seconds() - c2;
  const std::uint64_t resent = a.service->stats().chunk_bytes_sent - sent_mark;
  if (!r2->ok()) {
    std::fprintf(stderr, "resume failed: %s\n", r2->error().to_string().c_str());
    return 1;
  }
  std::printf(
      "leg 2: resumed at %.1f MiB, %8.1f MiB in %6.2f s = %7.1f MiB/s (%.2f CPU s, verified)\n",
      mib(resumed_at), mib(resent), leg2, mib(resent) / leg2, cpu2);
  std::printf("bytes sent after resume: %.1f MiB of %.1f MiB (%.1f%%)\n", mib(resent), mib(size),
              100.0 * static_cast<double>(resent) / static_cast<double>(size));
  std::printf("blob goodput over both legs:   %7.1f MiB/s wall, %7.1f MiB per CPU second\n",
              mib(size) / (leg1 + leg2), mib(size) / (cpu1 + cpu2));
  std::printf("largest backlog held by the server's BlobService: %zu KiB\n",
              a.service->stats().max_pending_bytes / 1024);
  std::printf("VmHWM after blob transfer:     %7ld KiB\n", vm_hwm_kib());

  // Raw QuicTransport: ordered 1 MiB messages on one stream, WOULD_BLOCK -> on_writable.
  const std::uint64_t raw = o.raw_mib * 1024 * 1024;
  const Bytes message(1024 * 1024, 0x5a);
  std::uint64_t queued = 0;
  std::uint64_t received = 0;
  const auto& client = b.transport->local_peer_id();
  auto push = [&] {
    while (queued < raw) {
      Status st = a.transport->send(client, transport::Channel::kBlobs, message);
      if (!st.ok()) return;
      queued += message.size();
    }
  };
  transport::TransportEvents ea;
  ea.on_writable = [&](const transport::PeerId&) { push(); };
  a.transport->set_events(ea);
  transport::TransportEvents eb;
  eb.on_message = [&](const transport::PeerId&, transport::Channel, Bytes m) {
    received += m.size();
  };
  b.transport->set_events(eb);
  auto t3 = Clock::now();
  const double c3 = cpu_seconds();
  push();
  if (!loop.run_until([&] { return received >= raw; }, 600s)) return 1;
  const double rawt = seconds_since(t3);
  const double cpu3 = cpu_seconds() - c3;
  std::printf(
      "raw QUIC stream: %8.1f MiB in %6.2f s = %7.1f MiB/s wall, %7.1f MiB per CPU second\n",
      mib(raw), rawt, mib(raw) / rawt, mib(raw) / cpu3);
  std::printf("VmHWM after raw QUIC:          %7ld KiB\n", vm_hwm_kib());

  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--size-mib")
      o.size_mib = std::strtoull(v, nullptr, 10);
    else if (k == "--chunk-kib")
      o.chunk_kib = std::strtoull(v, nullptr, 10);
    else if (k == "--window")
      o.window = static_cast<std::uint32_t>(std::strtoul(v, nullptr, 10));
    else if (k == "--raw-mib")
      o.raw_mib = std::strtoull(v, nullptr, 10);
    else if (k == "--interrupt-at")
      o.interrupt_at = std::strtod(v, nullptr);
    else if (k == "--checkpoint-ms")
      o.checkpoint_ms = std::atoi(v);
    else if (k == "--dir")
      o.dir = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (o.size_mib == 0 || o.chunk_kib == 0 || o.chunk_kib > 16 * 1024) {
    std::fprintf(stderr, "size and chunk must be > 0, chunk at most 16384 KiB\n");
    return 2;
  }
  return run(o);
}
