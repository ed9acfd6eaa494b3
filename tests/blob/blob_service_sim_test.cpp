// BlobService between simulated nodes: loss, duplication and reordering under the reliable
// channel, backpressure, a link cut mid-transfer with resume, a receiver crash with resume from
// its checkpoint, corrupted data, and peers that break the protocol.
#include "peat/blob/blob_service.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <optional>

#include "peat/common/random.hpp"
#include "peat/sim/sim_transport.hpp"
#include "store/test_dir.hpp"

namespace peat::blob {
namespace {

using namespace std::chrono_literals;
using sim::SimLoop;
using sim::SimNetwork;
using sim::SimTransport;
using transport::Channel;

constexpr std::size_t kChunk = 16 * 1024;

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
  SeededRng rng(seed);
  Bytes b(n);
  rng.fill(b);
  return b;
}

BlobServiceConfig service_config() {
  BlobServiceConfig c;
  c.profile = {kChunk, 200ms};
  c.window = 8;
  c.stall_timeout = 5s;
  return c;
}

// One node: store directory (kept across crashes), transport and service.
struct Node {
  std::string name;
  std::filesystem::path dir;
  std::optional<BlobStore> store;
  std::unique_ptr<SimTransport> transport;
  std::unique_ptr<BlobService> service;

  void boot(SimNetwork& net, sim::SimTransportConfig tc = {}) {
    auto s = BlobStore::open(dir);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    store.emplace(std::move(*s));
    transport = std::make_unique<SimTransport>(net, name, tc);
    service = std::make_unique<BlobService>(net.loop(), *transport, *store, service_config());
    transport->set_events(service->transport_events());
    ASSERT_TRUE(transport->start().ok());
  }
  // The process dies: nothing is flushed, no callback runs. The directory stays.
  void crash(SimNetwork& net) {
    net.crash(name);
    transport->set_events({});
    service.reset();
    transport.reset();
    store.reset();
  }
};

struct Outcome {
  std::optional<Result<BlobToken>> result;
  std::vector<TransferEvent> events;
  std::uint64_t started_at = UINT64_MAX;
  std::uint64_t bytes_done = 0;
};

class BlobSimTest : public ::testing::Test {
 protected:
  SimLoop loop;
  SimNetwork net{loop, 42};
  test::TempDir tmp;
  Node a{"a", tmp.path() / "a", {}, nullptr, nullptr};  // serves
  Node b{"b", tmp.path() / "b", {}, nullptr, nullptr};  // fetches

  void SetUp() override {
    net.add_node("a");
    net.add_node("b");
  }

  bool connect() {
    b.transport->connect("a", {});
    return loop.run_until(
        [&] { return a.transport->is_connected("b") && b.transport->is_connected("a"); }, 10s);
  }

  FetchId start_fetch(const BlobHash& hash, Outcome& out, FetchOptions options = {}) {
    options.on_progress = [&out](const TransferEvent& e) {
      out.events.push_back(e);
      if (e.kind == TransferEventKind::kStarted) out.started_at = e.bytes_done;
      out.bytes_done = e.bytes_done;
    };
    auto id = b.service->fetch(
        "a", hash, [&out](Result<BlobToken> r) { out.result = std::move(r); }, std::move(options));
    EXPECT_TRUE(id.ok()) << id.error().to_string();
    return id.ok() ? *id : 0;
  }

  bool wait(const Outcome& out, Duration limit = 120s) {
    return loop.run_until([&] { return out.result.has_value(); }, limit);
  }
};

TEST_F(BlobSimTest, TransfersThroughLossDuplicationReorderingAndBackpressure) {
  sim::LinkConfig link;
  link.delay = 5ms;
  link.jitter = 3ms;
  link.loss = 0.05;
  link.duplicate = 0.02;
  link.reorder = 0.1;
  link.bandwidth_bps = 20'000'000;
  link.queue_bytes = 1 << 20;
  net.set_default_link(link);
  sim::SimTransportConfig small;  // a tiny transport queue makes send() answer WOULD_BLOCK
  small.window = 4;
  small.send_queue_limit = 2;
  a.boot(net, small);
  b.boot(net);
  ASSERT_TRUE(connect());

  Bytes data = random_bytes(1'000'000 + 123, 1);
  BlobMetadata meta;
  meta.name = "tiles.bin";
  meta.custom["zoom"] = "12";
  auto token = a.store->put_bytes(data, meta);
  ASSERT_TRUE(token.ok());

  Outcome out;
  start_fetch(token->hash, out, {{}, token->size});
  ASSERT_TRUE(wait(out));
  ASSERT_TRUE(out.result->ok()) << out.result->error().to_string();
  EXPECT_EQ(**out.result, *token);
  EXPECT_EQ(b.store->read_all(token->hash).value(), data);
  EXPECT_EQ(b.store->info(token->hash)->metadata, meta);
  EXPECT_EQ(out.started_at, 0u);
  EXPECT_EQ(out.bytes_done, data.size());
  EXPECT_GT(b.transport->stats().retransmissions + a.transport->stats().retransmissions, 0u);
  // Backpressure was exercised, and the server never held more than one chunk of its own.
  EXPECT_GT(a.service->stats().would_block, 0u);
  EXPECT_LE(a.service->stats().max_pending_bytes, kChunk + 64);
  EXPECT_EQ(a.service->stats().chunk_bytes_sent, data.size());
  EXPECT_EQ(b.service->stats().chunk_bytes_received, data.size());
  loop.run_for(1s);
  EXPECT_EQ(a.service->active_uploads(), 0u);
  EXPECT_EQ(a.service->stats().uploads_completed, 1u);
  EXPECT_EQ(b.service->active_fetches(), 0u);

  // A second fetch of a blob held locally completes at once, without traffic.
  Outcome again;
  start_fetch(token->hash, again);
  ASSERT_TRUE(wait(again, 1s));
  EXPECT_TRUE(again.result->ok());
  EXPECT_EQ(a.service->stats().uploads_started, 1u);
}

TEST_F(BlobSimTest, LinkCutMidTransferThenRestoredResumesFromTheReceivedOffset) {
  sim::LinkConfig link;
  link.delay = 2ms;
  link.bandwidth_bps = 8'000'000;
  net.set_default_link(link);
  a.boot(net);
  b.boot(net);
  ASSERT_TRUE(connect());
  Bytes data = random_bytes(2 * 1024 * 1024, 2);
  auto token = a.store->put_bytes(data);
  ASSERT_TRUE(token.ok());

  Outcome first;
  start_fetch(token->hash, first);
  ASSERT_TRUE(loop.run_until([&] { return first.bytes_done >= data.size() / 2; }, 60s));
  net.set_link_up("a", "b", false);
  ASSERT_TRUE(wait(first, 30s));
  ASSERT_FALSE(first.result->ok());
  EXPECT_EQ(first.result->error().code, "DISCONNECTED");
  const std::uint64_t got = b.service->stats().chunk_bytes_received;
  EXPECT_GE(got, data.size() / 2);
  EXPECT_LT(got, data.size());
  EXPECT_FALSE(b.store->exists(token->hash));

  net.set_link_up("a", "b", true);
  ASSERT_TRUE(loop.run_until([&] { return !a.transport->is_connected("b"); }, 30s));
  ASSERT_TRUE(connect());
  Outcome second;
  start_fetch(token->hash, second);
  ASSERT_TRUE(wait(second));
  ASSERT_TRUE(second.result->ok()) << second.result->error().to_string();
  // Resumed exactly where the first attempt stopped: no verified byte came twice.
  EXPECT_EQ(second.started_at, got);
  EXPECT_EQ(b.service->stats().chunk_bytes_received, data.size());
  EXPECT_EQ(b.store->read_all(token->hash).value(), data);
  EXPECT_FALSE(
      std::filesystem::exists(b.store->partial_dir() / (hash_to_hex(token->hash) + ".part")));
}

TEST_F(BlobSimTest, ReceiverCrashResumesFromItsCheckpoint) {
  sim::LinkConfig link;
  link.delay = 2ms;
  link.bandwidth_bps = 8'000'000;
  net.set_default_link(link);
  a.boot(net);
  b.boot(net);
  ASSERT_TRUE(connect());
  Bytes data = random_bytes(2 * 1024 * 1024, 3);
  auto token = a.store->put_bytes(data);
  ASSERT_TRUE(token.ok());

  Outcome first;
  std::uint64_t last_checkpoint = 0;
  FetchOptions opts;
  start_fetch(token->hash, first, opts);
  ASSERT_TRUE(loop.run_until(
      [&] {
        for (const auto& e : first.events) {
          if (e.kind == TransferEventKind::kCheckpointed) last_checkpoint = e.bytes_done;
        }
        return first.bytes_done >= data.size() * 6 / 10 && last_checkpoint > 0;
      },
      60s));
  const std::uint64_t at_crash = first.bytes_done;
  b.crash(net);
  loop.run_for(5s);  // the server notices the silence and drops its side
  EXPECT_EQ(a.service->active_uploads(), 0u);
  net.restart("b");
  b.boot(net);
  ASSERT_TRUE(connect());

  const std::uint64_t sent_before = a.service->stats().chunk_bytes_sent;
  Outcome second;
  start_fetch(token->hash, second);
  ASSERT_TRUE(wait(second));
  ASSERT_TRUE(second.result->ok()) << second.result->error().to_string();
  EXPECT_GT(second.started_at, 0u);
  EXPECT_GE(second.started_at, last_checkpoint);
  EXPECT_LE(second.started_at, at_crash);
  const std::uint64_t resent = a.service->stats().chunk_bytes_sent - sent_before;
  EXPECT_EQ(resent, data.size() - second.started_at);
  EXPECT_LT(resent, data.size());
  EXPECT_EQ(b.store->read_all(token->hash).value(), data);
}

TEST_F(BlobSimTest, CorruptedDataFailsVerificationAndDeletesThePartial) {
  a.boot(net);
  b.boot(net);
  ASSERT_TRUE(connect());
  Bytes data = random_bytes(300'000, 4);
  auto token = a.store->put_bytes(data);
  ASSERT_TRUE(token.ok());
  {  // bit rot on the server's disk: the file no longer matches its name
    std::fstream f(a.store->path_of(token->hash), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(150'000);
    f.put(static_cast<char>(data[150'000] ^ 0x40));
  }
  Outcome out;
  start_fetch(token->hash, out);
  ASSERT_TRUE(wait(out));
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->error().code, "BLOB_VERIFY_FAILED");
  EXPECT_FALSE(b.store->exists(token->hash));
  const std::string hex = hash_to_hex(token->hash);
  EXPECT_FALSE(std::filesystem::exists(b.store->partial_dir() / (hex + ".part")));
  EXPECT_FALSE(std::filesystem::exists(b.store->partial_dir() / (hex + ".ckpt")));
  loop.run_for(1s);
  EXPECT_EQ(a.service->active_uploads(), 0u);  // the server was told
}

TEST_F(BlobSimTest, UnknownBlobAndWrongSizeAreReported) {
  a.boot(net);
  b.boot(net);
  ASSERT_TRUE(connect());
  Outcome missing;
  start_fetch(Sha256::digest(to_bytes("nobody has this")), missing);
  ASSERT_TRUE(wait(missing));
  ASSERT_FALSE(missing.result->ok());
  EXPECT_EQ(missing.result->error().code, "NOT_FOUND");

  auto token = a.store->put_bytes(random_bytes(5000, 5));
  Outcome wrong;
  start_fetch(token->hash, wrong, {{}, 4999});
  ASSERT_TRUE(wait(wrong));
  ASSERT_FALSE(wrong.result->ok());
  EXPECT_EQ(wrong.result->error().code, "BLOB_SIZE_MISMATCH");

  auto not_connected = b.service->fetch("nobody", token->hash, [](Result<BlobToken>) {});
  ASSERT_FALSE(not_connected.ok());
  EXPECT_EQ(b.service->active_fetches(), 0u);

  Outcome cancelled;
  FetchId id = start_fetch(token->hash, cancelled);
  b.service->cancel(id);
  ASSERT_TRUE(cancelled.result.has_value());
  EXPECT_EQ(cancelled.result->error().code, "CANCELLED");
}

TEST_F(BlobSimTest, CheckpointOfAnotherSizeRestartsFromZero) {
  a.boot(net);
  b.boot(net);
  ASSERT_TRUE(connect());
  Bytes data = random_bytes(100'000, 9);
  auto token = a.store->put_bytes(data);
  ASSERT_TRUE(token.ok());
  // A stale checkpoint claims 1000 bytes of a 5000-byte blob with this hash.
  const std::string hex = hash_to_hex(token->hash);
  std::filesystem::create_directories(b.store->partial_dir());
  {
    std::ofstream part(b.store->partial_dir() / (hex + ".part"), std::ios::binary);
    part << std::string(1000, 'x');
    std::ofstream ckpt(b.store->partial_dir() / (hex + ".ckpt"));
    ckpt << R"({"hash":")" << hex << R"(","size":5000,"offset":1000})";
  }
  Outcome out;
  start_fetch(token->hash, out);
  ASSERT_TRUE(wait(out));
  ASSERT_TRUE(out.result->ok()) << out.result->error().to_string();
  EXPECT_EQ(b.store->read_all(token->hash).value(), data);
  EXPECT_EQ(b.service->stats().chunk_bytes_received, data.size());
  EXPECT_EQ(a.service->stats().uploads_started, 2u);  // the first request was replaced
}

// A hand-written server that answers REQUESTs with whatever the test scripts.
class EvilPeerTest : public BlobSimTest {
 protected:
  std::unique_ptr<SimTransport> evil;
  std::vector<BlobMessage> heard;
  std::vector<Bytes> heard_raw;
  std::function<void(const RequestMsg&)> on_request;

  void SetUp() override {
    BlobSimTest::SetUp();
    evil = std::make_unique<SimTransport>(net, "a");
    transport::TransportEvents ev;
    ev.on_message = [this](const transport::PeerId&, Channel, Bytes m) {
      heard_raw.push_back(m);
      auto d = decode_message(heard_raw.back());
      ASSERT_TRUE(d.ok());
      heard.push_back(*d);
      if (auto* r = std::get_if<RequestMsg>(&heard.back())) on_request(*r);
    };
    evil->set_events(ev);
    ASSERT_TRUE(evil->start().ok());
    b.boot(net);
    b.transport->connect("a", {});
    ASSERT_TRUE(loop.run_until([&] { return b.transport->is_connected("a"); }, 10s));
  }
  void send(const Bytes& m) { ASSERT_TRUE(evil->send("b", Channel::kBlobs, m).ok()); }
  std::optional<ErrorMsg> error_heard() const {
    for (const auto& m : heard) {
      if (auto* e = std::get_if<ErrorMsg>(&m)) return *e;
    }
    return std::nullopt;
  }
  void expect_cut_off(const BlobHash& hash, const std::string& what) {
    Outcome out;
    start_fetch(hash, out);
    ASSERT_TRUE(wait(out, 10s));
    ASSERT_FALSE(out.result->ok());
    EXPECT_EQ(out.result->error().code, "BLOB_PROTOCOL_VIOLATION");
    EXPECT_NE(out.result->error().message.find(what), std::string::npos)
        << out.result->error().message;
    loop.run_for(1s);
    auto err = error_heard();
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->code, "BLOB_PROTOCOL_VIOLATION");
    EXPECT_FALSE(b.store->exists(hash));
  }
};

TEST_F(EvilPeerTest, ChunkAtTheWrongOffsetIsCutOff) {
  Bytes data = random_bytes(100'000, 6);
  BlobHash hash = Sha256::digest(data);
  on_request = [&](const RequestMsg& r) {
    send(encode(OfferMsg{r.transfer_id, hash, data.size(), 0, 4096, {}}));
    send(encode(ChunkMsg{r.transfer_id, 0, ByteView(data).first(4096)}));
    send(encode(ChunkMsg{r.transfer_id, 9000, ByteView(data).subspan(9000, 4096)}));
  };
  expect_cut_off(hash, "CHUNK at offset 9000, expected 4096");
}

TEST_F(EvilPeerTest, ChunkBiggerThanOfferedIsCutOff) {
  Bytes data = random_bytes(100'000, 7);
  BlobHash hash = Sha256::digest(data);
  on_request = [&](const RequestMsg& r) {
    send(encode(OfferMsg{r.transfer_id, hash, data.size(), 0, 4096, {}}));
    send(encode(ChunkMsg{r.transfer_id, 0, ByteView(data).first(8192)}));
  };
  expect_cut_off(hash, "more than the offered chunk size");
}

TEST_F(EvilPeerTest, ChunkPastTheEndIsCutOff) {
  Bytes data = random_bytes(5000, 8);
  BlobHash hash = Sha256::digest(data);
  on_request = [&](const RequestMsg& r) {
    send(encode(OfferMsg{r.transfer_id, hash, 1000, 0, 4096, {}}));
    send(encode(ChunkMsg{r.transfer_id, 0, ByteView(data).first(2000)}));
  };
  expect_cut_off(hash, "past the offered size");
}

TEST_F(EvilPeerTest, GarbageAndChunkBeforeOfferAreCutOff) {
  BlobHash hash = Sha256::digest(to_bytes("x"));
  on_request = [&](const RequestMsg& r) {
    Bytes junk = encode(AckMsg{r.transfer_id, 1, 1});
    junk.push_back(0xee);  // a trailing byte
    send(junk);
  };
  expect_cut_off(hash, "trailing");
  heard.clear();
  on_request = [&](const RequestMsg& r) {
    send(encode(ChunkMsg{r.transfer_id, 0, to_bytes("x")}));
  };
  expect_cut_off(hash, "CHUNK before OFFER");
}

TEST_F(EvilPeerTest, SilentPeerStallsTheFetch) {
  on_request = [](const RequestMsg&) {};
  Outcome out;
  start_fetch(Sha256::digest(to_bytes("y")), out);
  ASSERT_TRUE(wait(out, 30s));
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->error().code, "BLOB_STALLED");
}

}  // namespace
}  // namespace peat::blob
