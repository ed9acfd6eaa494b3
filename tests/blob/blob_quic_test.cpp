// BlobService over real QUIC on 127.0.0.1: a 64 MiB blob interrupted twice (the receiving
// transport stopped as in a crash, then the connection closed by the server), resumed each time
// from the receiver's checkpoint, and verified. Every run loop is bounded.
#include <gtest/gtest.h>
#include <sodium.h>

#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "peat/blob/blob_service.hpp"
#include "peat/common/random.hpp"
#include "peat/runtime/io_loop.hpp"
#include "peat/transport/quic/quic_transport.hpp"
#include "store/test_dir.hpp"

namespace peat::blob {
namespace {

using namespace std::chrono_literals;
using transport::quic::Identity;
using transport::quic::QuicTransport;
using transport::quic::QuicTransportConfig;

constexpr auto kLimit = 60s;
constexpr std::uint64_t kSize = 64ull * 1024 * 1024;

Identity make_identity(std::uint8_t tag) {
  Identity id;
  id.seed.fill(tag);
  std::array<std::uint8_t, 64> secret{};
  EXPECT_EQ(crypto_sign_seed_keypair(id.public_key.data(), secret.data(), id.seed.data()), 0);
  return id;
}

struct QuicNode {
  SeededRng rng;
  std::optional<BlobStore> store;
  std::unique_ptr<QuicTransport> transport;
  std::unique_ptr<BlobService> service;

  QuicNode(runtime::IoLoop& loop, std::uint8_t tag, const std::filesystem::path& dir) : rng(tag) {
    auto s = BlobStore::open(dir);
    EXPECT_TRUE(s.ok());
    store.emplace(std::move(*s));
    QuicTransportConfig config;
    config.identity = make_identity(tag);
    config.bind_host = "127.0.0.1";
    transport = std::make_unique<QuicTransport>(loop, std::move(config), rng);
    BlobServiceConfig bc;
    bc.profile = {256 * 1024,
                  5ms};  // frequent checkpoints: a fast loopback link still has one early
    bc.window = 16;
    service = std::make_unique<BlobService>(loop, *transport, *store, bc);
    transport->set_events(service->transport_events());
    EXPECT_TRUE(transport->start().ok());
  }
  ~QuicNode() {
    if (transport) transport->set_events({});
  }
  const transport::PeerId& id() const { return transport->local_peer_id(); }
  std::vector<transport::PeerAddress> address() const {
    return {{"127.0.0.1", *transport->local_port()}};
  }
};

struct Attempt {
  std::optional<Result<BlobToken>> result;
  std::uint64_t started_at = UINT64_MAX;
  std::uint64_t bytes_done = 0;
  std::uint64_t last_checkpoint = 0;
  // Runs once, from the progress event that first satisfies `interrupt_when`: the interruption
  // happens at a byte count, not at whatever point a loop poll notices it, so a fast link
  // cannot finish the transfer first.
  std::function<bool(const Attempt&)> interrupt_when;
  std::function<void()> interrupt;
  bool interrupted = false;
};

FetchOptions observe(runtime::IoLoop& loop, Attempt& at) {
  FetchOptions o;
  o.on_progress = [&loop, &at](const TransferEvent& e) {
    if (e.kind == TransferEventKind::kStarted) at.started_at = e.bytes_done;
    if (e.kind == TransferEventKind::kCheckpointed) at.last_checkpoint = e.bytes_done;
    at.bytes_done = e.bytes_done;
    if (at.interrupt && at.interrupt_when(at)) {
      at.interrupted = true;
      loop.post(std::exchange(at.interrupt, nullptr));  // not re-entrantly inside the transport
    }
  };
  return o;
}

TEST(BlobQuic, InterruptedTransfersResumeFromTheCheckpointAndVerify) {
  test::TempDir tmp;
  runtime::IoLoop loop;
  QuicNode a(loop, 1, tmp.path() / "a");
  auto b = std::make_unique<QuicNode>(loop, 2, tmp.path() / "b");

  // A 64 MiB blob, streamed into the store.
  SeededRng gen(7);
  std::uint64_t produced = 0;
  auto token = a.store->put_stream([&](std::span<std::uint8_t> out) -> Result<std::size_t> {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), kSize - produced));
    gen.fill(out.first(n));
    produced += n;
    return n;
  });
  ASSERT_TRUE(token.ok()) << token.error().to_string();
  ASSERT_EQ(token->size, kSize);

  auto connect = [&] {
    b->transport->connect(a.id(), a.address());
    return loop.run_until(
        [&] { return b->transport->is_connected(a.id()) && a.transport->is_connected(b->id()); },
        kLimit);
  };
  ASSERT_TRUE(connect());

  // 1. The receiving transport stops mid-way (no checkpoint on the way out, as in a crash).
  Attempt first;
  first.interrupt_when = [](const Attempt& at) {
    return at.last_checkpoint > 0 && at.bytes_done >= kSize / 5;
  };
  first.interrupt = [&] { b->transport->stop(); };
  ASSERT_TRUE(b->service
                  ->fetch(
                      a.id(), token->hash, [&](Result<BlobToken> r) { first.result = r; },
                      observe(loop, first))
                  .ok());
  ASSERT_TRUE(
      loop.run_until([&] { return first.interrupted || first.result.has_value(); }, kLimit));
  ASSERT_FALSE(first.result.has_value()) << "finished before the interruption";
  loop.run_for(10ms);  // lets the posted stop() run
  const std::uint64_t checkpoint = first.last_checkpoint;
  b.reset();
  ASSERT_TRUE(loop.run_until([&] { return a.service->active_uploads() == 0; }, kLimit));

  // 2. A new receiver on the same directory resumes from the checkpoint; this time the server
  //    closes the connection mid-way.
  b = std::make_unique<QuicNode>(loop, 2, tmp.path() / "b");
  ASSERT_TRUE(connect());
  std::uint64_t sent_mark = a.service->stats().chunk_bytes_sent;
  Attempt second;
  second.interrupt_when = [checkpoint](const Attempt& at) {
    return at.bytes_done >= checkpoint + (kSize - checkpoint) / 3;
  };
  second.interrupt = [&] { a.transport->disconnect(b->id()); };
  ASSERT_TRUE(b->service
                  ->fetch(
                      a.id(), token->hash, [&](Result<BlobToken> r) { second.result = r; },
                      observe(loop, second))
                  .ok());
  ASSERT_TRUE(loop.run_until([&] { return second.result.has_value(); }, kLimit));
  ASSERT_TRUE(second.interrupted);
  EXPECT_EQ(second.started_at, checkpoint);
  ASSERT_FALSE(second.result->ok());
  EXPECT_EQ(second.result->error().code, "DISCONNECTED");
  const std::uint64_t held = b->service->stats().chunk_bytes_received + checkpoint;
  const std::uint64_t resent_second = a.service->stats().chunk_bytes_sent - sent_mark;
  EXPECT_LT(resent_second, kSize);

  // 3. Reconnect and finish: continues exactly at the bytes held, then verifies.
  ASSERT_TRUE(loop.run_until([&] { return !b->transport->is_connected(a.id()); }, kLimit));
  ASSERT_TRUE(connect());
  sent_mark = a.service->stats().chunk_bytes_sent;
  Attempt third;
  ASSERT_TRUE(b->service
                  ->fetch(
                      a.id(), token->hash, [&](Result<BlobToken> r) { third.result = r; },
                      observe(loop, third))
                  .ok());
  ASSERT_TRUE(loop.run_until([&] { return third.result.has_value(); }, kLimit));
  ASSERT_TRUE(third.result->ok()) << third.result->error().to_string();
  EXPECT_EQ(third.started_at, held);
  const std::uint64_t resent_third = a.service->stats().chunk_bytes_sent - sent_mark;
  EXPECT_EQ(resent_third, kSize - held);
  EXPECT_LT(resent_third, kSize);
  EXPECT_TRUE(b->store->exists(token->hash));
  EXPECT_TRUE(b->store->verify(token->hash).ok());
  // Memory stayed bounded: the service never held more than one chunk (plus control) of its own.
  EXPECT_LE(a.service->stats().max_pending_bytes, 256u * 1024 + 1024);
}

}  // namespace
}  // namespace peat::blob
