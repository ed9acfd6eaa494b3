#include "peat/transport/bypass_transport.hpp"
#include "peat/transport/transport_manager.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>

#include "runtime/asio.hpp"

namespace peat::transport {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

struct Node {
  Node(runtime::IoLoop& loop, BypassTransportConfig config) : t(loop, std::move(config)) {
    TransportEvents e;
    e.on_connected = [this](const PeerId& p) { connected.push_back(p); };
    e.on_disconnected = [this](const PeerId& p, DisconnectReason, const std::string&) {
      disconnected.push_back(p);
    };
    e.on_datagram = [this](const PeerId& p, Bytes d) {
      received.emplace_back(p, std::string(d.begin(), d.end()));
    };
    t.set_events(e);
    t.set_on_bypass_message([this](const BypassMessage& m) { messages.push_back(m); });
  }
  BypassTransport t;
  std::vector<PeerId> connected, disconnected;
  std::vector<std::pair<PeerId, std::string>> received;
  std::vector<BypassMessage> messages;
};

BypassTransportConfig loopback() {
  BypassTransportConfig c;
  c.bind_address = "127.0.0.1";
  c.port = 0;
  return c;
}

struct Secure {
  Secure() {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(1);
    std::tie(pk_a, sk_a) = bypass::keypair_from_seed(seed);
    seed.fill(2);
    std::tie(pk_b, sk_b) = bypass::keypair_from_seed(seed);
    id_a.fill(0xaa);
    id_b.fill(0xbb);
    key.fill(7);
  }
  BypassTransportConfig config(bool is_a) const {
    BypassTransportConfig c = loopback();
    c.mode = bypass::Mode::kSignedEncrypted;
    c.credentials = {is_a ? id_a : id_b, is_a ? sk_a : sk_b, key};
    c.policy.require_authentication = true;
    c.policy.require_signature = true;
    c.policy.require_encryption = true;
    c.policy.encryption_key = key;
    c.policy.peer_keys[id_a] = pk_a;
    c.policy.peer_keys[id_b] = pk_b;
    return c;
  }
  bypass::PublicKey pk_a{}, pk_b{};
  bypass::SecretKey sk_a{}, sk_b{};
  bypass::SenderId id_a{}, id_b{};
  bypass::SymmetricKey key{};
};

TEST(BypassTransport, PlainLoopbackExchangeAndMetrics) {
  runtime::IoLoop loop;
  Node a(loop, loopback()), b(loop, loopback());
  ASSERT_TRUE(a.t.start().ok());
  ASSERT_TRUE(b.t.start().ok());
  EXPECT_EQ(a.t.capabilities().type, TransportType::kUdpBypass);
  EXPECT_FALSE(a.t.capabilities().reliable);
  a.t.connect("b", {{"127.0.0.1", b.t.local_port()}});
  b.t.connect("a", {{"127.0.0.1", a.t.local_port()}});
  ASSERT_TRUE(loop.run_until([&] { return !a.connected.empty() && !b.connected.empty(); }, 5s));
  EXPECT_EQ(a.t.send("b", Channel::kSync, as_bytes("x")).error().code, "UNSUPPORTED");
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(a.t.send_datagram("b", as_bytes("ping" + std::to_string(i))).ok());
  }
  ASSERT_TRUE(b.t.send_to_collection("a", "telemetry", as_bytes("pong")).ok());
  ASSERT_TRUE(
      loop.run_until([&] { return b.received.size() == 10 && a.received.size() == 1; }, 5s));
  EXPECT_EQ(b.received[0], std::make_pair(PeerId("a"), std::string("ping0")));
  EXPECT_EQ(a.messages[0].message.header.collection_hash, bypass::collection_hash("telemetry"));
  EXPECT_EQ(a.messages[0].peer, "b");
  EXPECT_EQ(a.t.metrics().messages_sent, 10u);
  EXPECT_EQ(a.t.metrics().bytes_sent, 10u * (12 + 5));
  EXPECT_EQ(b.t.metrics().messages_received, 10u);
  EXPECT_EQ(a.t.send_datagram("nobody", as_bytes("x")).error().code, "NOT_CONNECTED");
  EXPECT_EQ(a.t.send_datagram("b", Bytes(65001, 0)).error().code, "MESSAGE_TOO_LARGE");
  a.t.disconnect("b");
  EXPECT_EQ(a.disconnected, std::vector<PeerId>{"b"});
}

TEST(BypassTransport, ConnectWithoutIpFails) {
  runtime::IoLoop loop;
  Node a(loop, loopback());
  ASSERT_TRUE(a.t.start().ok());
  a.t.connect("x", {{"not-an-ip", 1}});
  ASSERT_TRUE(loop.run_until([&] { return !a.disconnected.empty(); }, 5s));
  EXPECT_FALSE(a.t.is_connected("x"));
}

TEST(BypassTransport, SecureLoopbackRejectsTamperedReplayedWrongKeyOversizedTruncated) {
  runtime::IoLoop loop;
  Secure s;
  Node a(loop, s.config(true)), b(loop, s.config(false));
  ASSERT_TRUE(a.t.start().ok());
  ASSERT_TRUE(b.t.start().ok());
  a.t.connect("b", {{"127.0.0.1", b.t.local_port()}});
  ASSERT_TRUE(loop.run_until([&] { return !a.connected.empty(); }, 5s));
  ASSERT_TRUE(a.t.send_datagram("b", as_bytes("genuine")).ok());
  ASSERT_TRUE(loop.run_until([&] { return b.received.size() == 1; }, 5s));
  EXPECT_EQ(b.received[0].first, to_hex(s.id_a));  // authenticated peer = sender device id
  EXPECT_TRUE(b.messages[0].message.signed_by_sender);
  EXPECT_TRUE(b.messages[0].message.encrypted);

  // An attacker with a raw socket. Sequences above the genuine sender's (µs clock).
  constexpr std::uint64_t kHigh = std::uint64_t{1} << 62;
  asio::ip::udp::socket raw(runtime::asio_context(loop),
                            asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::ip::udp::endpoint target(asio::ip::make_address("127.0.0.1"), b.t.local_port());
  bypass::Encoder good(bypass::Mode::kSignedEncrypted, {s.id_a, s.sk_a, s.key}, kHigh);
  Bytes captured =
      *good.encode(bypass::collection_hash("bypass"), 5000, as_bytes("again"), loop.unix_millis());
  raw.send_to(asio::buffer(captured), target);  // first time: accepted
  raw.send_to(asio::buffer(captured), target);  // replay
  Bytes tampered = captured;
  tampered[48] ^= 1;
  raw.send_to(asio::buffer(tampered), target);
  bypass::SymmetricKey wrong{};
  wrong.fill(8);
  bypass::Encoder wrong_key(bypass::Mode::kSignedEncrypted, {s.id_a, s.sk_a, wrong}, kHigh + 100);
  raw.send_to(asio::buffer(*wrong_key.encode(1, 5000, as_bytes("w"), loop.unix_millis())), target);
  bypass::Encoder impostor(bypass::Mode::kSignedEncrypted, {s.id_a, s.sk_b, s.key}, kHigh + 200);
  raw.send_to(asio::buffer(*impostor.encode(1, 5000, as_bytes("i"), loop.unix_millis())), target);
  raw.send_to(asio::buffer(captured.data(), 30), target);  // truncated
  Bytes plain;
  bypass::encode_header({1, 0, 0, 0}, plain);
  raw.send_to(asio::buffer(plain), target);  // unauthenticated
  Bytes garbage(20, 0x55);
  raw.send_to(asio::buffer(garbage), target);  // no magic
  ASSERT_TRUE(loop.run_until([&] { return b.t.metrics().receive_errors >= 7; }, 5s));
  loop.run_for(50ms);
  auto m = b.t.metrics();
  EXPECT_EQ(m.messages_received, 2u);
  EXPECT_EQ(m.replay_rejected, 1u);
  EXPECT_EQ(m.signature_rejected, 3u);  // tampered, impostor, unauthenticated plain
  EXPECT_EQ(m.invalid_dropped, 2u);     // truncated, garbage
  EXPECT_EQ(m.decryption_failed, 1u);   // signed correctly but encrypted with the wrong key
  EXPECT_EQ(m.receive_errors, 7u);
  EXPECT_EQ(b.received.size(), 2u);
  EXPECT_EQ(b.received[1].second, "again");
}

TEST(BypassTransport, OversizedDatagramDroppedByReceiver) {
  runtime::IoLoop loop;
  BypassTransportConfig small = loopback();
  small.policy.max_packet_size = 100;
  Node a(loop, loopback()), b(loop, small);
  ASSERT_TRUE(a.t.start().ok());
  ASSERT_TRUE(b.t.start().ok());
  a.t.connect("b", {{"127.0.0.1", b.t.local_port()}});
  ASSERT_TRUE(loop.run_until([&] { return !a.connected.empty(); }, 5s));
  ASSERT_TRUE(a.t.send_datagram("b", Bytes(200, 1)).ok());
  ASSERT_TRUE(a.t.send_datagram("b", Bytes(50, 1)).ok());
  ASSERT_TRUE(loop.run_until([&] { return b.received.size() == 1; }, 5s));
  EXPECT_EQ(b.t.metrics().oversized_dropped, 1u);
  EXPECT_EQ(b.received[0].first, "udp:127.0.0.1:" + std::to_string(a.t.local_port()));
}

}  // namespace
}  // namespace peat::transport

namespace peat::transport {
namespace {

// The TransportManager on real sockets: one signed+encrypted bypass link each way, datagrams made
// reliable and ordered by the manager's sequence numbers and acks.
TEST(BypassTransport, TransportManagerOverBypassDeliversInOrder) {
  runtime::IoLoop loop;
  Secure s;
  BypassTransport ta(loop, s.config(true)), tb(loop, s.config(false));
  ASSERT_TRUE(ta.start().ok());
  ASSERT_TRUE(tb.start().ok());
  const PeerId a = to_hex(s.id_a), b = to_hex(s.id_b);  // authenticated peers are device ids
  SeededRng ra(1), rb(2);
  TransportManagerConfig config;
  config.health.interval = std::chrono::milliseconds(100);
  config.tick = std::chrono::milliseconds(20);
  TransportManager ma(loop, ra, config), mb(loop, rb, config);
  ASSERT_TRUE(ma.add_link("udp", ta).ok());
  ASSERT_TRUE(mb.add_link("udp", tb).ok());
  std::vector<std::string> got;
  TransportManagerEvents eb;
  eb.on_message = [&](const PeerId& peer, Channel, Bytes m) {
    EXPECT_EQ(peer, a);
    got.emplace_back(m.begin(), m.end());
  };
  mb.set_events(eb);
  ma.start();
  mb.start();
  ma.add_peer(b, {{"udp", {{"127.0.0.1", tb.local_port()}}}});
  mb.add_peer(a, {{"udp", {{"127.0.0.1", ta.local_port()}}}});
  ASSERT_TRUE(loop.run_until([&] { return ma.active_link(b).has_value(); }, 5s));
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(ma.send(b, Channel::kSync, as_bytes("m" + std::to_string(i))).ok());
  }
  ASSERT_TRUE(loop.run_until([&] { return got.size() == 200 && ma.unacked(b) == 0; }, 10s));
  for (int i = 0; i < 200; ++i) ASSERT_EQ(got[i], "m" + std::to_string(i));
  EXPECT_EQ(tb.metrics().signature_rejected, 0u);
  EXPECT_GE(tb.metrics().messages_received, 200u);
}

}  // namespace
}  // namespace peat::transport

namespace peat::transport {
namespace {

TEST(BypassTransport, ManagerIgnoresFramesFromUnconnectedSources) {
  runtime::IoLoop loop;
  BypassTransport tb(loop, loopback());
  ASSERT_TRUE(tb.start().ok());
  SeededRng rng(3);
  TransportManager mb(loop, rng);
  ASSERT_TRUE(mb.add_link("udp", tb).ok());
  int delivered = 0;
  TransportManagerEvents events;
  events.on_message = [&](const PeerId&, Channel, Bytes) { ++delivered; };
  mb.set_events(events);
  mb.start();
  // A well-formed manager DATA frame (stream 1, seq 1) from a stranger's socket.
  Bytes frame{0x50, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 'x'};
  Bytes packet;
  bypass::encode_header({bypass::collection_hash("bypass"), 5000, 0, 0}, packet);
  packet.insert(packet.end(), frame.begin(), frame.end());
  asio::ip::udp::socket raw(runtime::asio_context(loop),
                            asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  raw.send_to(asio::buffer(packet),
              asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), tb.local_port()));
  ASSERT_TRUE(loop.run_until([&] { return mb.stats().invalid_frames == 1; }, 5s));
  EXPECT_EQ(delivered, 0);
  EXPECT_EQ(tb.metrics().messages_received, 1u);  // the bypass accepted the plain packet
}

}  // namespace
}  // namespace peat::transport
